import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { ROOT } from '../build'

interface State {
  loggedIn: boolean
  accounts: { id: string; name: string }[]
  databases: { uuid: string; name: string }[]
  secrets: string[]
  secretValues?: Record<string, string>
  deployed?: boolean
  deploys?: number
  deployedConfig?: string
  failCreate?: boolean
  migrationsPending?: number
}

const ACCOUNT = { id: '0123456789abcdef0123456789abcdef', name: 'Dev' }
const OTHER = { id: 'fedcba9876543210fedcba9876543210', name: 'Work' }

/**
 * A project copy with the fake wrangler first on PATH. The script is run as `pnpm deploycf` runs it,
 * in the copy, with no terminal (so never interactive).
 */
function project(state: State, wranglerToml?: (original: string) => string) {
  const dir = mkdtempSync(join(tmpdir(), 'keyrelay-deploycf-'))
  const bin = join(dir, 'bin')
  mkdirSync(bin)
  copyFileSync(join(ROOT, 'test/deploy/fake-wrangler.mjs'), join(bin, 'wrangler'))
  chmodSync(join(bin, 'wrangler'), 0o755)
  const original = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8')
  writeFileSync(join(dir, 'wrangler.toml'), wranglerToml ? wranglerToml(original) : original)
  for (const entry of ['node_modules', 'scripts', 'worker', 'migrations', 'package.json', 'tsconfig.json']) {
    symlinkSync(join(ROOT, entry), join(dir, entry))
  }
  const statePath = join(dir, 'state.json')
  const logPath = join(dir, 'calls.log')
  writeFileSync(statePath, JSON.stringify(state))
  writeFileSync(logPath, '')
  const run = (env: Record<string, string> = {}, args: string[] = []) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/deploycf.ts', ...args], {
        cwd: dir,
        env: {
          PATH: `${bin}:${process.env.PATH}`,
          HOME: dir,
          FAKE_WRANGLER_STATE: statePath,
          FAKE_WRANGLER_LOG: logPath,
          ...env,
        },
      })
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      child.stderr.on('data', (d: Buffer) => (out += d.toString()))
      child.on('close', (code) => resolve({ code, out }))
    })
  return {
    dir,
    run,
    state: () => JSON.parse(readFileSync(statePath, 'utf8')) as State,
    calls: () =>
      readFileSync(logPath, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { args: string[]; account: string | null }),
    file: (name: string) => readFileSync(join(dir, name), 'utf8'),
    exists: (name: string) => existsSync(join(dir, name)),
  }
}

const fresh = (): State => ({
  loggedIn: true,
  accounts: [ACCOUNT],
  databases: [],
  secrets: [],
  migrationsPending: 2,
})
const verbs = (calls: { args: string[] }[]) => calls.map((c) => c.args.slice(0, 2).join(' '))

describe('pnpm deploycf', () => {
  test('a fresh account: database created, migrations applied, AUTH_KEY generated and shown once, deployed', async () => {
    const p = project(fresh())
    const { code, out } = await p.run()
    expect(code, out).toBe(0)
    expect(verbs(p.calls())).toEqual([
      'whoami --json',
      'd1 list',
      'd1 create',
      'd1 list',
      'd1 migrations',
      'secret list',
      'deploy --config',
    ])
    const state = p.state()
    expect(state.databases.map((d) => d.name)).toEqual(['keyrelay'])
    expect(state.deploys).toBe(1)
    // The deployed config carries the new database id and the account; wrangler.toml is untouched.
    expect(state.deployedConfig).toContain('database_id = "5a1c0f9e-7d3b-4c2a-9e8f-0123456789ab"')
    expect(state.deployedConfig).toContain(`account_id = "${ACCOUNT.id}"`)
    expect(state.deployedConfig).toContain(`CF_ACCOUNT_ID = "${ACCOUNT.id}"`)
    expect(p.file('wrangler.toml')).toBe(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'))
    // AUTH_KEY: uploaded as a secret with the deployment, printed exactly once, never on a command line.
    const authKey = state.secretValues?.AUTH_KEY ?? ''
    expect(authKey).toMatch(/^kr-[A-Za-z0-9_-]{40,}$/)
    expect(out.split(authKey).length - 1).toBe(1)
    expect(JSON.stringify(p.calls())).not.toContain(authKey)
    // ENCRYPTION_KEY: generated and uploaded the same way, and never shown at all.
    const encryptionKey = state.secretValues?.ENCRYPTION_KEY ?? ''
    expect(encryptionKey).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(out).not.toContain(encryptionKey)
    expect(JSON.stringify(p.calls())).not.toContain(encryptionKey)
    expect(out).toContain('https://keyrelay.dev-example.workers.dev/api/compat')
    // Every account-scoped call names the account.
    expect(
      p
        .calls()
        .slice(1)
        .every((c) => c.account === ACCOUNT.id),
    ).toBe(true)
    // No secrets file is left behind.
    const secretsArg = p.calls().find((c) => c.args[0] === 'deploy')?.args
    const secretsFile = secretsArg?.[secretsArg.indexOf('--secrets-file') + 1]
    expect(secretsFile && existsSync(secretsFile)).toBe(false)
  })

  test('a re-run changes nothing that is already right and keeps the AUTH_KEY', async () => {
    const p = project(fresh())
    expect((await p.run()).code).toBe(0)
    const first = p.state()
    const { code, out } = await p.run()
    expect(code, out).toBe(0)
    const second = p.state()
    expect(second.databases).toEqual(first.databases)
    expect(second.secretValues).toEqual(first.secretValues)
    expect(out).toContain('AUTH_KEY: already set, kept')
    // Replacing it would make every sealed key unreadable.
    expect(out).toContain('ENCRYPTION_KEY: already set, kept')
    expect(out).toContain('already up to date')
    expect(out).not.toContain(first.secretValues?.AUTH_KEY ?? '(none)')
    const rerun = p.calls().slice(7)
    expect(verbs(rerun)).not.toContain('d1 create')
    expect(rerun.find((c) => c.args[0] === 'deploy')?.args).not.toContain('--secrets-file')
  })

  test('AUTH_KEY and AI_GATEWAY_TOKEN from the environment are uploaded, never printed', async () => {
    const p = project(fresh())
    const { code, out } = await p.run({
      AUTH_KEY: 'my-own-key;guest=openai',
      AI_GATEWAY_TOKEN: 'aig-secret-token',
    })
    expect(code, out).toBe(0)
    expect(p.state().secretValues).toEqual({
      AUTH_KEY: 'my-own-key;guest=openai',
      AI_GATEWAY_TOKEN: 'aig-secret-token',
      ENCRYPTION_KEY: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    })
    expect(out).not.toContain('my-own-key')
    expect(out).not.toContain('aig-secret-token')
  })

  test('a malformed AUTH_KEY stops before anything is deployed, without echoing it', async () => {
    const p = project(fresh())
    const { code, out } = await p.run({ AUTH_KEY: 'ok;bad(key' })
    expect(code).toBe(1)
    expect(out).toContain('AUTH_KEY entry 2 is malformed')
    expect(out).not.toContain('bad(key')
    expect(p.state().deploys).toBeUndefined()
  })

  test('--dry-run without a login still shows every step, saying which need one', async () => {
    const p = project({ ...fresh(), loggedIn: false })
    const { code, out } = await p.run({}, ['--dry-run'])
    expect(code, out).toBe(0)
    expect(out).toContain('not logged in: a real run opens `wrangler login`')
    for (const step of [
      '(needs login) find it in `wrangler d1 list`, or create it: wrangler d1 create keyrelay',
      '(needs login) run: wrangler d1 migrations apply DB --remote',
      '(needs login) read which secrets are set',
      'ENCRYPTION_KEY (generated unless set, never shown)',
      'AI → AI Gateway → Create Gateway',
      '(needs login) run: wrangler deploy',
      'Dry run complete',
    ]) {
      expect(out).toContain(step)
    }
    expect(verbs(p.calls())).toEqual(['whoami --json'])
    expect(p.state()).toEqual({ ...fresh(), loggedIn: false })
  })

  test('not logged in, without a terminal: explains wrangler login and CLOUDFLARE_API_TOKEN', async () => {
    const p = project({ ...fresh(), loggedIn: false })
    const { code, out } = await p.run()
    expect(code).toBe(1)
    expect(out).toContain('Not logged in to Cloudflare')
    expect(out).toContain('wrangler login')
    expect(out).toContain('CLOUDFLARE_API_TOKEN')
    expect(verbs(p.calls())).toEqual(['whoami --json'])
  })

  test('several accounts: asks for CLOUDFLARE_ACCOUNT_ID, then uses it', async () => {
    const p = project({ ...fresh(), accounts: [ACCOUNT, OTHER] })
    const refused = await p.run()
    expect(refused.code).toBe(1)
    expect(refused.out).toContain('several Cloudflare accounts')
    expect(refused.out).toContain(OTHER.id)
    const ok = await p.run({ CLOUDFLARE_ACCOUNT_ID: OTHER.id })
    expect(ok.code, ok.out).toBe(0)
    expect(p.state().deployedConfig).toContain(`account_id = "${OTHER.id}"`)
    const wrong = await p.run({ CLOUDFLARE_ACCOUNT_ID: 'ffffffffffffffffffffffffffffffff' })
    expect(wrong.code).toBe(1)
    expect(wrong.out).toContain('not one of your accounts')
  })

  test("a failing D1 create stops with wrangler's reason and deploys nothing", async () => {
    const p = project({ ...fresh(), failCreate: true })
    const { code, out } = await p.run()
    expect(code).toBe(1)
    expect(out).toContain('Could not create the D1 database')
    expect(out).toContain('maximum number of D1 databases')
    expect(p.state().deploys).toBeUndefined()
    expect(p.exists('wrangler.deploy.toml')).toBe(false)
  })

  test("the user's own wrangler.toml edits survive and are deployed", async () => {
    const p = project(fresh(), (original) =>
      original
        .replace('name = "keyrelay"', 'name = "my-relay"')
        .replace('AI_GATEWAY = "keyrelay"', 'AI_GATEWAY = "team-gateway"\nMAX_ATTEMPTS = "3"'),
    )
    const before = p.file('wrangler.toml')
    const { code, out } = await p.run()
    expect(code, out).toBe(0)
    expect(p.file('wrangler.toml')).toBe(before)
    const deployed = p.state().deployedConfig ?? ''
    expect(deployed).toContain('name = "my-relay"')
    expect(deployed).toContain('MAX_ATTEMPTS = "3"')
    expect(deployed).toContain('database_id = "5a1c0f9e-7d3b-4c2a-9e8f-0123456789ab"')
    expect(out).toContain('AI Gateway "team-gateway"')
    expect(p.calls().find((c) => c.args[0] === 'secret')?.args).toContain('my-relay')
  })

  test('with an API token the AI Gateway is created through the Cloudflare API if missing', async () => {
    const seen: { method: string; url: string; body: string; auth: string }[] = []
    let exists = false
    const api = createServer((req, res) => {
      let body = ''
      req.on('data', (d: Buffer) => (body += d.toString()))
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          body,
          auth: req.headers.authorization ?? '',
        })
        res.setHeader('content-type', 'application/json')
        if (req.method === 'GET') {
          res.statusCode = exists ? 200 : 404
          res.end(JSON.stringify({ success: exists, result: exists ? { id: 'keyrelay' } : null }))
        } else {
          exists = true
          res.end(JSON.stringify({ success: true, result: { id: JSON.parse(body).id } }))
        }
      })
    })
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r))
    const base = `http://127.0.0.1:${(api.address() as AddressInfo).port}/client/v4`
    try {
      const p = project(fresh())
      const env = { CLOUDFLARE_API_TOKEN: 'cf-api-token', CLOUDFLARE_API_BASE_URL: base }
      const first = await p.run(env)
      expect(first.code, first.out).toBe(0)
      expect(first.out).toMatch(/AI Gateway "keyrelay"\n\s+✓ created/)
      const again = await p.run(env)
      expect(again.out).toMatch(/AI Gateway "keyrelay"\n\s+✓ exists/)
      const posts = seen.filter((r) => r.method === 'POST')
      expect(posts).toHaveLength(1)
      expect(posts[0]?.url).toBe(`/client/v4/accounts/${ACCOUNT.id}/ai-gateway/gateways`)
      expect(JSON.parse(posts[0]!.body)).toMatchObject({
        id: 'keyrelay',
        cache_ttl: 0,
        rate_limiting_limit: 0,
      })
      expect(seen.every((r) => r.auth === 'Bearer cf-api-token')).toBe(true)
    } finally {
      api.close()
    }
  })

  test('without a token the AI Gateway steps are printed', async () => {
    const p = project(fresh())
    const { out } = await p.run()
    expect(out).toContain('AI → AI Gateway → Create Gateway')
  })

  test('--dry-run shows every step and changes nothing', async () => {
    const p = project(fresh())
    const { code, out } = await p.run({}, ['--dry-run'])
    expect(code, out).toBe(0)
    for (const step of [
      'create it: wrangler d1 create keyrelay',
      'wrangler d1 migrations apply',
      'upload AUTH_KEY, ENCRYPTION_KEY',
      'wrangler deploy',
    ]) {
      expect(out).toContain(step)
    }
    expect(p.state()).toEqual(fresh())
    expect(verbs(p.calls())).toEqual(['whoami --json', 'd1 list', 'secret list'])
    expect(p.exists('wrangler.deploy.toml')).toBe(false)
  })
})
