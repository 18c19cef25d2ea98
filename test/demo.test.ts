import { spawn, type ChildProcess } from 'node:child_process'
import { tmpdir } from 'node:os'
import { afterAll, expect, test } from 'vitest'
import { ROOT } from './build'

let demo: ChildProcess | undefined
afterAll(() => {
  demo?.kill('SIGTERM')
})

/** Starts `pnpm demo`'s script on a free port and returns the URL it prints. */
function startDemo(): Promise<{ url: string; output: () => string }> {
  let output = ''
  demo = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--port=0'], { cwd: ROOT })
  demo.stdout?.on('data', (d: Buffer) => (output += d.toString()))
  demo.stderr?.on('data', (d: Buffer) => (output += d.toString()))
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /runs locally at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (m?.[1]) {
        clearInterval(timer)
        resolve({ url: m[1], output: () => output })
      }
    }, 50)
    demo?.on('exit', (code) => reject(new Error(`demo exited ${code}: ${output}`)))
  })
}

test('the demo serves every request while its bad keys cool down and get blocked', async () => {
  const { url, output } = await startDemo()
  const call = () =>
    fetch(`${url}/api/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': 'demo-auth-key-not-a-secret', 'content-type': 'application/json' },
      body: '{"contents":[{"parts":[{"text":"Hello"}]}]}',
    })
  for (let i = 0; i < 6; i++) {
    const res = await call()
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('[demo upstream]')
  }
  const keys = (await (
    await fetch(`${url}/admin/api/keys?provider=google-ai-studio`, {
      headers: { authorization: 'Bearer demo-auth-key-not-a-secret' },
    })
  ).json()) as {
    keys: { status: string; blockedReason: string | null; cooldowns: Record<string, unknown> }[]
  }
  const states = keys.keys.map((k) =>
    k.status === 'blocked' ? k.blockedReason : Object.keys(k.cooldowns).join(),
  )
  expect(states.sort()).toEqual(['', '', 'API_KEY_INVALID', 'gemini-2.5-flash', 'gemini-2.5-flash'])
  expect(output()).toContain('nothing here talks to Cloudflare')
  expect(output()).not.toContain('with key undefined')
  // The demo's own AUTH_KEY does not make the setup check warn a newcomer about a short key.
  const setup = (await (
    await fetch(`${url}/admin/api/setup`, { headers: { authorization: 'Bearer demo-auth-key-not-a-secret' } })
  ).json()) as { checks: { id: string; status: string }[] }
  expect(setup.checks.find((c) => c.id === 'auth_key')?.status).toBe('ok')
  // The demo runs the Cron Trigger from the start: the dashboard's key-state chart has a sample.
  const overview = (await (
    await fetch(`${url}/admin/api/overview`, {
      headers: { authorization: 'Bearer demo-auth-key-not-a-secret' },
    })
  ).json()) as { providers: { provider: string; states: { total: number }[] }[] }
  const google = overview.providers.find((p) => p.provider === 'google-ai-studio')
  expect(google?.states[0]?.total).toBe(5)

  // Every command it prints runs as printed, from any folder (here: the system's temporary one).
  const printed = output()
  const commands = printed
    .split('\n\n')
    .map((block) => block.trim())
    .filter((block) => /^(curl|\(cd)/.test(block))
  expect(commands.length).toBeGreaterThanOrEqual(5)
  for (const command of commands) {
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('bash', ['-c', command], { cwd: tmpdir() })
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      child.stderr.on('data', (d: Buffer) => (out += d.toString()))
      child.on('close', (c) => resolve({ code: c, out }))
    })
    expect(code, `${command}\n${out}`).toBe(0)
    expect(out, command).toMatch(/Hello|demo|key/)
  }
}, 60_000)
