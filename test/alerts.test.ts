import { afterEach, expect, test } from 'vitest'
import { WEBHOOK_BASE } from './gateway/mock-gateway'
import { replies } from './gateway/replies'
import { startWorker, type Harness } from './harness'
import { adminHeaders, GEMINI_PATH, googleInit, googleKey, openaiInit, openaiKey } from './helpers'

// Alerts (issue 16): a JSON POST to ALERT_WEBHOOK_URL, here the stand-in's local webhook receiver.
let h: Harness | undefined
afterEach(async () => {
  await h?.dispose()
  h = undefined
})

const HOOK = `${WEBHOOK_BASE}services/T000/B000/secret-token-part`
const bodies = (harness: Harness) =>
  harness.gateway.webhooks.map((w) => JSON.parse(w.body) as Record<string, string>)

test('a key blocked by traffic: one message in the shapes Slack and Discord read, the key masked', async () => {
  h = await startWorker({ vars: { ALERT_WEBHOOK_URL: HOOK } })
  const [bad, good] = [googleKey(1), googleKey(2)]
  await h.addKeys('google-ai-studio', [bad, good])
  h.gateway.on(bad, () => replies.googleInvalidKey())
  for (let i = 0; i < 3; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  await expect.poll(() => h!.gateway.webhooks.length).toBe(1)
  const [alert] = bodies(h)
  expect(alert).toMatchObject({
    kind: 'key_blocked',
    event: 'key_blocked',
    provider: 'google-ai-studio',
    key: `${bad.slice(0, 4)}…${bad.slice(-4)}`,
    reason: 'API_KEY_INVALID',
  })
  expect(alert!.text).toBe(`keyrelay: a google-ai-studio key (${alert!.key}) was blocked: API_KEY_INVALID`)
  expect(alert!.content).toBe(alert!.text)
  expect(h.gateway.webhooks[0]!.body).not.toContain(bad)
  // The webhook URL is a secret: never in a log line.
  expect(h.logs.join('\n')).not.toContain('secret-token-part')
})

test('a storm sends one message per kind and provider per ALERT_COOLDOWN_MINUTES, not one per request', async () => {
  h = await startWorker({ vars: { ALERT_WEBHOOK_URL: HOOK } })
  const keys = [openaiKey(1), openaiKey(2)]
  await h.addKeys('openai', keys)
  for (const k of keys) h.gateway.on(k, () => replies.openaiRateLimit({ 'retry-after': '120' }))
  for (let i = 0; i < 30; i++) await h.fetch('/api/openai/chat/completions', openaiInit())
  await expect.poll(() => h!.gateway.webhooks.length).toBeGreaterThanOrEqual(1)
  await new Promise((r) => setTimeout(r, 300))
  const kinds = bodies(h).map((b) => b.kind)
  expect(kinds).toEqual(['no_usable_key'])
  expect(bodies(h)[0]).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', reason: 'all_keys_cooling' })
  const listed = (await (await h.fetch('/admin/api/alerts', { headers: adminHeaders() })).json()) as {
    alerts: { kind: string; status: string }[]
  }
  expect(listed.alerts).toEqual([expect.objectContaining({ kind: 'no_usable_key', status: 'sent' })])
})

test('a failing webhook is retried by the cron, never lost; a restored key is announced; ALERT_TEMPLATE shapes the body', async () => {
  h = await startWorker({
    vars: {
      ALERT_WEBHOOK_URL: HOOK,
      ALERT_TEMPLATE: '{"chat_id":"-100123","text":"{{text}}","parse_mode":"HTML"}',
    },
  })
  const key = googleKey(7)
  const [id] = await h.addKeys('google-ai-studio', [key])
  h.gateway.webhookStatus = 500
  h.gateway.on(key, () => replies.googleInvalidKey())
  await h.fetch(GEMINI_PATH, googleInit())
  await expect.poll(() => h!.logs.some((l) => l.includes('"event":"alert_failed"'))).toBe(true)
  h.gateway.webhookStatus = 200
  // The cron delivers what failed, and re-checks blocked keys: this one works again.
  h.gateway.on(key, () => replies.googleOk())
  await h.cron()
  const delivered = bodies(h).filter((_, i) => i > 0)
  expect(delivered.map((b) => b.text)).toEqual([
    expect.stringContaining('was blocked: API_KEY_INVALID'),
    expect.stringContaining('works again and was restored'),
  ])
  expect(delivered[0]).toEqual({ chat_id: '-100123', text: expect.any(String), parse_mode: 'HTML' })
  const row = await h.d1.prepare('SELECT status FROM keys WHERE id = ?1').bind(id).first<{ status: string }>()
  expect(row?.status).toBe('active')
})

test('without a webhook, alerts are still listed for the dashboard and the setup check', async () => {
  h = await startWorker()
  await h.addKeys('openai', [openaiKey(9)])
  h.gateway.on(openaiKey(9), () => replies.openaiInvalidKey())
  await h.fetch('/api/openai/chat/completions', openaiInit())
  await h.fetch('/api/openai/chat/completions', openaiInit())
  await expect
    .poll(async () =>
      (
        (await (await h!.fetch('/admin/api/alerts', { headers: adminHeaders() })).json()) as {
          alerts: { kind: string }[]
        }
      ).alerts
        .map((a) => a.kind)
        .sort(),
    )
    .toEqual(['key_blocked', 'no_usable_key'])
  const setup = (await (await h.fetch('/admin/api/setup', { headers: adminHeaders() })).json()) as {
    checks: { id: string; status: string; detail: string }[]
  }
  const alerts = setup.checks.find((c) => c.id === 'alerts')!
  expect(alerts.status).toBe('warning')
  expect(alerts.detail).toContain('2 in the last 24 hours')
  expect(alerts.detail).toContain('no ALERT_WEBHOOK_URL is set')
})

test('client text in an alert: a model named @everyone or a URL notifies nobody and links nowhere; the name is capped', async () => {
  h = await startWorker({ vars: { ALERT_WEBHOOK_URL: HOOK } })
  const [key] = [openaiKey(1)]
  await h.addKeys('openai', [key])
  h.gateway.on(key, () => replies.openaiRateLimit({ 'retry-after': '120' }))
  const model = `@everyone-http://evil.example/${'x'.repeat(150)}`
  for (let i = 0; i < 2; i++) await h.fetch('/api/openai/chat/completions', openaiInit(model))
  await expect.poll(() => h!.gateway.webhooks.length).toBe(1)
  const [alert] = bodies(h) as [Record<string, unknown>]
  // Discord: no mention may notify, whatever the text holds.
  expect(alert.allowed_mentions).toEqual({ parse: [] })
  const text = String(alert.text)
  expect(text).not.toContain('@everyone')
  expect(text).toContain('`@\u200beveryone-http://evil.example/')
  expect(String(alert.model).length).toBeLessThanOrEqual(66)
  expect(String(alert.model)).not.toContain('@everyone')
})

test('listing models is not traffic: GET /api/compat/models raises no alert for providers without keys', async () => {
  h = await startWorker({ vars: { ALERT_WEBHOOK_URL: HOOK } })
  await h.addKeys('openai', [openaiKey(1)])
  const res = await h.fetch('/api/compat/models', { headers: adminHeaders() })
  expect(res.status).toBe(200)
  await new Promise((r) => setTimeout(r, 300))
  expect(h.gateway.webhooks).toEqual([])
  const listed = (await (await h.fetch('/admin/api/alerts', { headers: adminHeaders() })).json()) as {
    alerts: unknown[]
  }
  expect(listed.alerts).toEqual([])
})
