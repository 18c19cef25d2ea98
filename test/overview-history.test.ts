import { afterAll, beforeAll, expect, test } from 'vitest'
import type { Counts } from '../worker/db/counts'
import { replies } from './gateway/replies'
import { startWorker, type Harness } from './harness'
import { adminHeaders, errorCode, GEMINI_PATH, googleInit, googleKey } from './helpers'

// The overview's history: key states sampled by the cron, and usage over 24 h or 7 days, per provider.
interface Card {
  provider: string
  usage: Counts
  hourly: ({ hour: number } & Counts)[]
  states: { at: number; total: number; cooling: number; blocked: number }[]
}

let h: Harness
let ids: number[]
const now = Math.floor(Date.now() / 1000)
const hourOf = (t: number) => t - (t % 3600)
const threeDaysAgo = hourOf(now - 3 * 86_400)

beforeAll(async () => {
  h = await startWorker({ vars: { STATS_FLUSH_SECONDS: '1' } })
  const [good, limited, invalid] = [googleKey(1), googleKey(2), googleKey(3)]
  ids = await h.addKeys('google-ai-studio', [good, limited, invalid])
  h.gateway.on(limited, () => replies.googleDaily429()).on(invalid, () => replies.googleInvalidKey())
  for (let i = 0; i < 6; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  // Older history, as earlier cron runs and flushes left it: a sample two days ago, one nine days
  // ago (past the 8 days kept), and a flush three days ago.
  await h.d1.batch([
    h.d1
      .prepare('INSERT INTO pool_samples (at, counts) VALUES (?1, ?2), (?3, ?2)')
      .bind(now - 2 * 86_400, JSON.stringify({ 'google-ai-studio': [3, 0, 0] }), now - 9 * 86_400),
    h.d1
      .prepare('INSERT INTO usage_batches (hour, entries) VALUES (?1, ?2)')
      .bind(
        threeDaysAgo,
        JSON.stringify([
          [ids[0], 'google-ai-studio', 'gemini-2.5-flash', 5, 4, 1, 0, threeDaysAgo + 60, null],
        ]),
      ),
  ])
  await new Promise((r) => setTimeout(r, 1500)) // the stats flush
  await h.cron()
})
afterAll(() => h.dispose())

async function google(query = ''): Promise<Card> {
  const res = await h.fetch(`/admin/api/overview${query}`, { headers: adminHeaders() })
  expect(res.status).toBe(200)
  const body = (await res.json()) as { providers: Card[] }
  return body.providers.find((p) => p.provider === 'google-ai-studio')!
}

test('each cron run samples every provider’s keys by state; the overview shows the last 24 h of them', async () => {
  const card = await google()
  expect(card.states).toHaveLength(1)
  expect(card.states[0]).toMatchObject({ total: 3, cooling: 1, blocked: 1 })
  expect(card.states[0]!.at).toBeGreaterThanOrEqual(now)
  // Usage over 24 h: the six requests above, one 429 and one invalid answer among the attempts.
  expect(card.usage).toMatchObject({ requests: 8, successes: 6, rateLimited: 1, errors: 1 })
  expect(card.hourly.some((x) => x.hour === threeDaysAgo)).toBe(false)
})

test('range=7d: a week of samples and of usage per hour; samples older than 8 days are pruned', async () => {
  const card = await google('?range=7d')
  expect(card.states.map((s) => [s.total, s.cooling, s.blocked])).toEqual([
    [3, 0, 0],
    [3, 1, 1],
  ])
  expect(card.hourly.find((x) => x.hour === threeDaysAgo)).toEqual({
    hour: threeDaysAgo,
    requests: 5,
    successes: 4,
    rateLimited: 1,
    errors: 0,
    // Usage written before tokens were counted reads as none.
    inputTokens: 0,
    outputTokens: 0,
    cachedTokens: 0,
  })
  expect(card.usage).toMatchObject({ requests: 13, successes: 10, rateLimited: 2, errors: 1 })
  const left = await h.d1
    .prepare('SELECT count(*) AS n FROM pool_samples WHERE at < ?1')
    .bind(now - 8 * 86_400)
    .first()
  expect(left).toEqual({ n: 0 })
})

test('an unknown range is the caller’s mistake: 400 with a stable code', async () => {
  const res = await h.fetch('/admin/api/overview?range=1y', { headers: adminHeaders() })
  expect(res.status).toBe(400)
  expect(await errorCode(res)).toBe('invalid_query')
})

test('a week of samples is read once per isolate; later calls read only the samples since', async () => {
  const w = await startWorker()
  try {
    await w.addKeys('google-ai-studio', [googleKey(7)])
    // Six days of samples every 10 minutes, as the cron would have left them.
    const rows = Array.from({ length: 6 * 144 }, (_, i) => now - 6 * 86_400 + i * 600)
    for (let i = 0; i < rows.length; i += 50) {
      const chunk = rows.slice(i, i + 50)
      await w.d1
        .prepare(`INSERT INTO pool_samples (at, counts) VALUES ${chunk.map(() => '(?, ?)').join(', ')}`)
        .bind(...chunk.flatMap((at) => [at, JSON.stringify({ 'google-ai-studio': [1, 0, 0] })]))
        .run()
    }
    const rowsRead = async () =>
      (
        (await (await w.fetch('/admin/api/metrics', { headers: adminHeaders() })).json()) as {
          d1: { rowsRead: number }
        }
      ).d1.rowsRead
    const overview = async () => {
      const res = await w.fetch('/admin/api/overview?range=7d', { headers: adminHeaders() })
      const body = (await res.json()) as { providers: Card[] }
      return body.providers.find((p) => p.provider === 'google-ai-studio')!.states
    }
    const before = await rowsRead()
    expect(await overview()).toHaveLength(rows.length)
    expect((await rowsRead()) - before).toBeGreaterThanOrEqual(rows.length)
    // The cron samples again; the next call (2 s on) shows it, reading a handful of rows.
    await w.cron()
    await new Promise((r) => setTimeout(r, 2100))
    const between = await rowsRead()
    const states = await overview()
    expect(states).toHaveLength(rows.length + 1)
    expect(states.at(-1)).toMatchObject({ total: 1, cooling: 0, blocked: 0 })
    // The new sample, plus the call's other reads (the admin view's changes, the day's usage): a few
    // dozen rows at most, not the ~870 of the week again.
    expect((await rowsRead()) - between).toBeLessThan(100)
  } finally {
    await w.dispose()
  }
})
