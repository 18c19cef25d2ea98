/**
 * `pnpm dev`: keyrelay on this machine. Creates `.dev.vars` with a fresh AUTH_KEY the first time
 * (printed once, never again), applies the committed migrations to the local D1, then runs
 * `wrangler dev`, with `--test-scheduled` so that opening `/__scheduled` runs the Cron Trigger once.
 * Extra arguments go to wrangler (e.g. `pnpm dev --port 9000`).
 */
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const DEV_VARS = '.dev.vars'

const ENCRYPTION_LINES = () => [
  '# Encrypts provider keys in the local D1. Keep it: keys stored with it cannot be read without it.',
  `ENCRYPTION_KEY=${randomBytes(32).toString('base64url')}`,
  '',
]

function ensureDevVars(): void {
  if (existsSync(DEV_VARS)) {
    // A .dev.vars from before ENCRYPTION_KEY existed: add one, leave the rest as it is.
    if (!/^ENCRYPTION_KEY=/m.test(readFileSync(DEV_VARS, 'utf8'))) {
      appendFileSync(DEV_VARS, ['', ...ENCRYPTION_LINES()].join('\n'))
      console.log(`Added a generated ENCRYPTION_KEY to ${DEV_VARS}.`)
    }
    return
  }
  const authKey = `kr-${randomBytes(24).toString('base64url')}`
  const text = [
    '# Local secrets for `wrangler dev`. Gitignored: never commit this file.',
    `AUTH_KEY=${authKey}`,
    '',
    ...ENCRYPTION_LINES(),
    '# Where AI Gateway is. Either your account id and gateway name…',
    '# CF_ACCOUNT_ID=0123456789abcdef0123456789abcdef',
    '# (AI_GATEWAY defaults to "keyrelay" in wrangler.toml)',
    '# …or a full base URL:',
    '# GATEWAY_URL=https://gateway.ai.cloudflare.com/v1/<account id>/<gateway>',
    '# AI_GATEWAY_TOKEN=… (only for an authenticated gateway)',
    '',
  ].join('\n')
  writeFileSync(DEV_VARS, text, { mode: 0o600 })
  console.log(`\nCreated ${DEV_VARS} with a new AUTH_KEY. It is shown this once:\n\n  ${authKey}\n`)
}

/**
 * Locally, usage counts reach the dashboard within 5 s, not the deployed default's 60 (which spares
 * D1 writes on the free plan), unless .dev.vars sets STATS_FLUSH_SECONDS itself.
 */
export function devVars(devVarsText = existsSync(DEV_VARS) ? readFileSync(DEV_VARS, 'utf8') : ''): string[] {
  return /^STATS_FLUSH_SECONDS=/m.test(devVarsText) ? [] : ['--var', 'STATS_FLUSH_SECONDS:5']
}

/** `wrangler dev`'s arguments: the cron reachable at /__scheduled, local flush interval, the caller's own. */
export function devArgs(extra: string[], devVarsText?: string): string[] {
  return ['dev', '--test-scheduled', ...devVars(devVarsText), ...extra]
}

/**
 * Applies the committed migrations to the local D1 and says so in one line (wrangler's own output,
 * a table per run, is shown only when it fails). Returns that line.
 */
export function applyLocalMigrations(cwd = process.cwd()): string {
  const result = spawnSync('wrangler', ['d1', 'migrations', 'apply', 'DB', '--local'], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
  })
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`
  if (result.status !== 0) {
    throw new Error(
      `Applying migrations to the local D1 failed (exit ${result.status ?? 'signal'}):\n${output}\nRun \`pnpm install\` first if wrangler is missing.`,
    )
  }
  const total = readdirSync(join(cwd, 'migrations')).filter((f) => f.endsWith('.sql')).length
  if (/No migrations to apply/i.test(output)) return `✓ Local D1 up to date (${total} migrations)`
  const applied = new Set(output.match(/\b\d{4}_[\w-]+\.sql\b/g) ?? []).size
  return `✓ Applied ${applied} migration(s) to the local D1 (${total} in all)`
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureDevVars()
  try {
    console.log(applyLocalMigrations())
  } catch (e) {
    console.error(`✖ ${(e as Error).message}`)
    process.exit(1)
  }
  console.log('▶ Starting keyrelay (wrangler dev)')
  const dev = spawn('wrangler', devArgs(process.argv.slice(2)), { stdio: 'inherit' })
  // Ctrl-C ends wrangler dev by a signal: that is a clean stop, not a failure.
  dev.on('exit', (code, signal) => process.exit(signal ? 0 : (code ?? 0)))
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => dev.kill(signal))
}
