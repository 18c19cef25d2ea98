import { build } from 'esbuild'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const BUNDLE = `${ROOT}.test-build/worker.js`
export const REPO_BUNDLE = `${ROOT}.test-build/repo-worker.js`

/** The same bundling wrangler does for deployment: ESM for workerd, with worker export conditions. */
export async function buildWorker(outfile = BUNDLE, entry = `${ROOT}worker/index.ts`): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    sourcemap: 'inline',
    logLevel: 'warning',
  })
}

/** wrangler.toml's `[assets] run_worker_first` rules, so tests route requests as a deployment does. */
export function workerFirstRoutes(): string[] {
  const toml = readFileSync(`${ROOT}wrangler.toml`, 'utf8')
  const m = /^run_worker_first\s*=\s*\[([^\]]*)\]/m.exec(toml)
  return m?.[1] ? [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1] as string) : []
}

/** wrangler.toml's compatibility date, so tests run under the date that deploys. */
export function compatibilityDate(): string {
  const toml = readFileSync(`${ROOT}wrangler.toml`, 'utf8')
  const m = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)
  if (!m?.[1]) throw new Error('wrangler.toml has no compatibility_date')
  return m[1]
}
