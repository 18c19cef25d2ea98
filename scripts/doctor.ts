/**
 * `pnpm doctor [URL]`: asks a running keyrelay (default http://localhost:8787, or a deployed one)
 * what is wrong with its setup and prints each check with what to do about it. AUTH_KEY comes from
 * the environment or, locally, from .dev.vars; it is sent only to that URL and never printed.
 * Exits 1 when a check fails.
 */
import { existsSync, readFileSync } from 'node:fs'

interface Check {
  title: string
  status: 'ok' | 'warning' | 'failing'
  detail: string
  fix?: string
}

const MARK = { ok: '✓', warning: '!', failing: '✗' } as const

/** The first unrestricted entry of AUTH_KEY (the grammar allows several, `;`-separated). */
export function adminSecret(authKey: string): string {
  return (
    authKey
      .split(';')
      .map((e) => e.trim())
      .find((e) => e && !e.includes('=')) ?? ''
  ).replace(/\(\d+\)$/, '')
}

function authKey(): string | undefined {
  if (process.env.AUTH_KEY) return process.env.AUTH_KEY
  if (!existsSync('.dev.vars')) return undefined
  return /^AUTH_KEY=(.*)$/m.exec(readFileSync('.dev.vars', 'utf8'))?.[1]?.trim()
}

export async function doctor(url: string, key: string | undefined, print = console.log): Promise<number> {
  if (!key) {
    print('✗ No AUTH_KEY: export AUTH_KEY=… (the one you deployed with), or run this where .dev.vars is.')
    return 1
  }
  print(`keyrelay setup check: ${url}\n`)
  let res: Response
  try {
    res = await fetch(`${url.replace(/\/+$/, '')}/admin/api/setup`, {
      headers: { authorization: `Bearer ${adminSecret(key)}` },
    })
  } catch (e) {
    print(`✗ Could not reach ${url} (${e instanceof Error ? e.message : 'network error'}).`)
    print('  Is it running? Locally: `pnpm dev`. Deployed: the URL `pnpm deploycf` printed.')
    return 1
  }
  const body = (await res.json().catch(() => ({}))) as {
    checks?: Check[]
    error?: { code?: string; message?: string }
  }
  if (!res.ok || !body.checks) {
    const code = body.error?.code ?? `HTTP ${res.status}`
    print(`✗ ${code}: ${body.error?.message ?? 'unexpected answer'}`)
    if (code === 'config_invalid')
      print(
        '  Fix the variable named above (wrangler.toml [vars], secrets or .dev.vars), then restart or redeploy.',
      )
    if (res.status === 401 || res.status === 403)
      print('  This AUTH_KEY is not an unrestricted entry of that deployment.')
    return 1
  }
  for (const check of body.checks) {
    print(`${MARK[check.status]} ${check.title}: ${check.detail}`)
    if (check.fix && check.status !== 'ok') print(`    → ${check.fix}`)
  }
  const failing = body.checks.filter((c) => c.status === 'failing').length
  const warnings = body.checks.filter((c) => c.status === 'warning').length
  print(`\n${failing} failing, ${warnings} warning(s), ${body.checks.length - failing - warnings} ok.`)
  return failing > 0 ? 1 : 0
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.argv[2] ?? 'http://localhost:8787'
  doctor(url, authKey()).then((code) => process.exit(code))
}
