import { afterEach, describe, expect, test } from 'vitest'
import { spawn } from 'node:child_process'
import { devArgs } from '../scripts/dev'
import { doctor } from '../scripts/doctor'
import { ROOT } from './build'
import { replies } from './gateway/replies'
import { AUTH_KEY, ENCRYPTION_KEY, startWorker, type Harness } from './harness'
import { googleKey } from './helpers'

// The setup check (issue 15): GET /admin/api/setup, and `pnpm doctor` printing it, in each state.
let h: Harness | undefined
afterEach(async () => {
  await h?.dispose()
  h = undefined
})

async function run(harness: Harness, key = AUTH_KEY): Promise<{ code: number; out: string }> {
  const lines: string[] = []
  const code = await doctor(harness.url, key, (l) => lines.push(l))
  return { code, out: lines.join('\n') }
}

const line = (out: string, title: string) => out.split('\n').find((l) => l.includes(` ${title}:`)) ?? ''

describe('the commands as the README prints them', () => {
  test("`npx -y pnpm@10 --silent diagnose <url>` runs keyrelay's check (pnpm's own `doctor` would shadow it)", async () => {
    h = await startWorker()
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('npx', ['-y', 'pnpm@10', '--silent', 'diagnose', h!.url], {
        cwd: ROOT,
        env: { ...process.env, AUTH_KEY },
      })
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      child.stderr.on('data', (d: Buffer) => (out += d.toString()))
      child.on('close', (c) => resolve({ code: c, out }))
    })
    expect(out).toContain(`keyrelay setup check: ${h.url}`)
    expect(out).toMatch(/\d+ failing, \d+ warning\(s\), \d+ ok\./)
    expect([0, 1]).toContain(code)
    expect(out).not.toContain(AUTH_KEY)
  }, 60_000)

  test('`pnpm dev` runs wrangler dev with --test-scheduled, so /__scheduled runs the Cron Trigger', () => {
    expect(devArgs(['--port', '9000'], '')).toEqual([
      'dev',
      '--test-scheduled',
      '--var',
      'STATS_FLUSH_SECONDS:5',
      '--port',
      '9000',
    ])
  })
})

describe('pnpm doctor', () => {
  test('a healthy deployment: every check ok, and no secret printed', async () => {
    h = await startWorker({
      authKey: `${AUTH_KEY};kr-guest-entry-0000000=openai`,
      vars: { AI_GATEWAY_TOKEN: 'aig-token-0123456789' },
    })
    await h.addKeys('google-ai-studio', [googleKey(1), googleKey(2)])
    await h.cron()
    const { code, out } = await run(h)
    expect(code, out).toBe(0)
    for (const title of [
      'Configuration',
      'AI Gateway',
      'Database migrations',
      'AUTH_KEY',
      'Provider keys',
      'Keys at rest',
      'Cron Trigger',
    ]) {
      expect(line(out, title), title).toMatch(/^✓/)
    }
    expect(line(out, 'Provider keys')).toContain('google-ai-studio: 2 of 2 usable now')
    expect(line(out, 'Configuration')).toContain('AI_GATEWAY_TOKEN')
    for (const secret of [AUTH_KEY, ENCRYPTION_KEY, 'aig-token-0123456789', 'kr-guest-entry'])
      expect(out).not.toContain(secret)
    // The gateway check spends nothing: a keyless model list, refused by the provider.
    const probe = h.gateway.requests.find((r) => r.path === 'models')
    expect(probe?.key).toBeUndefined()
    expect(probe?.headers['cf-aig-authorization']).toBe('Bearer aig-token-0123456789')
  })

  test('not configured: the gateway check fails and says where the account ID is', async () => {
    h = await startWorker({ vars: { GATEWAY_URL: '' } })
    const { code, out } = await run(h)
    expect(code).toBe(1)
    expect(line(out, 'AI Gateway')).toMatch(/^✗ AI Gateway: No AI Gateway is configured/)
    expect(out).toContain('CF_ACCOUNT_ID')
  })

  test('an authenticated gateway without a valid token is named as such', async () => {
    h = await startWorker()
    h.gateway.refusal = () => replies.gatewayUnauthorized()
    let { code, out } = await run(h)
    expect(code).toBe(1)
    expect(line(out, 'AI Gateway')).toContain('authenticated, and no AI_GATEWAY_TOKEN is set')
    expect(out).toContain('wrangler secret put AI_GATEWAY_TOKEN')
    await h.dispose()
    h = await startWorker({ vars: { AI_GATEWAY_TOKEN: 'stale-token-000000' } })
    h.gateway.refusal = () => replies.gatewayUnauthorized()
    ;({ code, out } = await run(h))
    expect(line(out, 'AI Gateway')).toContain('refused AI_GATEWAY_TOKEN')
    expect(out).not.toContain('stale-token-000000')
  })

  test('no keys, a cron that never ran, a weak AUTH_KEY entry: warnings with the fix, nothing failing', async () => {
    h = await startWorker({ authKey: `${AUTH_KEY};short1` })
    const { code, out } = await run(h)
    expect(code, out).toBe(0)
    expect(line(out, 'Provider keys')).toMatch(/^! Provider keys: No provider keys yet/)
    expect(line(out, 'Cron Trigger')).toMatch(/^! Cron Trigger: Has not run yet/)
    expect(line(out, 'AUTH_KEY')).toContain('entry 2 is short (6 characters)')
    expect(out).not.toContain('short1')
  })

  test('a pending migration fails, naming it and the command that applies it', async () => {
    h = await startWorker()
    const last = await h.d1
      .prepare('SELECT name FROM d1_migrations ORDER BY id DESC LIMIT 1')
      .first<{ name: string }>()
    await h.d1.prepare('DELETE FROM d1_migrations WHERE name = ?1').bind(last!.name).run()
    const { code, out } = await run(h)
    expect(code).toBe(1)
    expect(line(out, 'Database migrations')).toContain(`1 migration(s) not applied: ${last!.name}`)
    expect(out).toContain('wrangler d1 migrations apply DB --remote')
  })

  test('a broken configuration, a wrong key, an unreachable URL: said plainly', async () => {
    h = await startWorker({ vars: { MAX_ATTEMPTS: 'many' } })
    let { code, out } = await run(h)
    expect(code).toBe(1)
    expect(out).toContain('config_invalid')
    expect(out).toContain('MAX_ATTEMPTS')
    await h.dispose()
    h = await startWorker()
    ;({ code, out } = await run(h, 'not-the-key'))
    expect(code).toBe(1)
    expect(out).toContain('invalid_auth_key')
    const lines: string[] = []
    expect(await doctor('http://127.0.0.1:9', AUTH_KEY, (l) => lines.push(l))).toBe(1)
    expect(lines.join('\n')).toContain('Could not reach')
  })
})
