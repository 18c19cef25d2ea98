import { afterAll, beforeAll, expect, test } from 'vitest'
import type { Counts } from '../worker/db/counts'
import { replies } from './gateway/replies'
import { startWorker, type Harness } from './harness'
import { adminHeaders, googleInit, googleKey } from './helpers'

let h: Harness
beforeAll(async () => {
  h = await startWorker({ vars: { STATS_FLUSH_SECONDS: '1' } })
})
afterAll(() => h.dispose())

interface Stats {
  totals: Counts
  providers: { provider: string; totals: Counts; hourly: (Counts & { hour: number })[] }[]
  keys: {
    id: number
    key: string
    totals: Counts
    lastUsed: number | null
    lastError: { status: number; reason: string } | null
  }[]
}
const stats = async (query = ''): Promise<Stats> =>
  (await (await h.fetch(`/admin/api/stats${query}`, { headers: adminHeaders() })).json()) as Stats
const metrics = async () =>
  (
    (await (await h.fetch('/admin/api/metrics', { headers: adminHeaders() })).json()) as {
      d1: { rowsWritten: number }
    }
  ).d1
const flushed = () => new Promise((r) => setTimeout(r, 1500))
const path = (model: string) => `/api/google-ai-studio/v1beta/models/${model}:generateContent`

test('counts are exact across several flushes, per key, model and provider', async () => {
  const [a, b, c] = [googleKey(1), googleKey(2), googleKey(3)]
  const [idA, idB, idC] = await h.addKeys('google-ai-studio', [a, b, c])
  // b always rate-limited, c invalid once (then blocked): every request is still served by a.
  h.gateway.on(b, () => replies.googleMinute429()).on(c, () => replies.googleInvalidKey())

  for (let i = 0; i < 4; i++) expect((await h.fetch(path('gemini-2.5-flash'), googleInit())).status).toBe(200)
  await flushed()
  for (let i = 0; i < 3; i++) expect((await h.fetch(path('gemini-2.5-pro'), googleInit())).status).toBe(200)
  await flushed()
  expect((await h.fetch(path('gemini-2.5-pro'), { ...googleInit(), body: '{}' })).status).toBe(200)
  await flushed()

  const s = await stats('?provider=google-ai-studio')
  const byId = new Map(s.keys.map((k) => [k.id, k]))
  // Tokens as the stand-in's usageMetadata reports them: 4 in, 4 out per answer.
  const tokens = (n: number) => ({ inputTokens: 4 * n, outputTokens: 4 * n, cachedTokens: 0 })
  const none = tokens(0)
  expect(byId.get(idA!)?.totals).toEqual({
    requests: 8,
    successes: 8,
    rateLimited: 0,
    errors: 0,
    ...tokens(8),
  })
  // b: one 429 per model before its cooldown kept it out.
  expect(byId.get(idB!)?.totals).toEqual({ requests: 2, successes: 0, rateLimited: 2, errors: 0, ...none })
  expect(byId.get(idB!)?.lastError).toMatchObject({ status: 429, reason: 'rate_limited' })
  expect(byId.get(idC!)?.totals).toEqual({ requests: 1, successes: 0, rateLimited: 0, errors: 1, ...none })
  expect(byId.get(idC!)?.lastError).toMatchObject({ status: 400, reason: 'API_KEY_INVALID' })
  expect(byId.get(idA!)?.lastUsed).toBeGreaterThan(Date.now() / 1000 - 30)
  expect(s.totals).toEqual({ requests: 11, successes: 8, rateLimited: 2, errors: 1, ...tokens(8) })
  expect(s.providers).toHaveLength(1)
  expect(s.providers[0]?.hourly.reduce((n, x) => n + x.requests, 0)).toBe(11)
  // Masked keys only.
  expect(JSON.stringify(s)).not.toContain(a)
})

test('a burst of successful requests writes far less than a row per request, and each is counted once', async () => {
  await h.clearKeys()
  const ids = new Set(
    await h.addKeys(
      'google-ai-studio',
      Array.from({ length: 10 }, (_, i) => googleKey(100 + i)),
    ),
  )
  const before = await metrics()
  const n = 300
  for (let i = 0; i < n; i += 30) {
    const burst = await Promise.all(
      Array.from({ length: 30 }, () => h.fetch(path('gemini-2.5-flash'), googleInit())),
    )
    for (const r of burst) expect(r.status).toBe(200)
  }
  // Every request is counted within a couple of flush intervals...
  const counted = async () =>
    (await stats('?provider=google-ai-studio')).keys
      .filter((k) => ids.has(k.id))
      .reduce((sum, k) => sum + k.totals.requests, 0)
  const seen: number[] = []
  for (let i = 0; i < 10 && seen.at(-1) !== n; i++) {
    await flushed()
    seen.push(await counted())
  }
  expect(seen.at(-1)).toBe(n)
  const written = (await metrics()).rowsWritten - before.rowsWritten
  const perRequest = written / n
  // ...for a handful of upserts: one per (key, model, hour) bucket per flush.
  expect(written).toBeGreaterThan(0)
  expect(perRequest).toBeLessThan(0.25)
  console.log(`stats: ${written} rows written for ${n} requests (${perRequest.toFixed(3)} per request)`)
})

test('stats queries are validated', async () => {
  const res = await h.fetch('/admin/api/stats?since=yesterday', { headers: adminHeaders() })
  expect(res.status).toBe(400)
  const body = (await res.json()) as { error: { code: string; message: string } }
  expect(body.error.code).toBe('invalid_query')
  expect(body.error.message).toMatch(/^since: /)
})

test("the keys listing shows a request's usage within STATS_FLUSH_SECONDS plus 2 s, even right after a listing", async () => {
  // A provider of its own, so the one request surely uses this key.
  const [id] = await h.addKeys('mistral', ['mistral-usage-key-000000000001'])
  const usageOf = async () => {
    const res = await h.fetch('/admin/api/keys?provider=mistral', { headers: adminHeaders() })
    const { keys } = (await res.json()) as { keys: { id: number; usage: { requests: number } }[] }
    return keys.find((k) => k.id === id)?.usage.requests ?? 0
  }
  expect(await usageOf()).toBe(0) // a listing just before: its cached read must not hide what follows
  const sent = Date.now()
  const res = await h.fetch('/api/mistral/v1/chat/completions', {
    method: 'POST',
    headers: adminHeaders(),
    body: JSON.stringify({ model: 'mistral-small', messages: [] }),
  })
  expect(res.status).toBe(200)
  await expect.poll(usageOf, { timeout: 8000, interval: 200 }).toBeGreaterThanOrEqual(1)
  // Flush interval 1 s, cache 2 s, a poll step and a slow machine's margin.
  expect(Date.now() - sent).toBeLessThan(1000 + 2000 + 2000)
})
