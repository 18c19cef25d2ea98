import { afterEach, expect, test } from 'vitest'
import { replies } from './gateway/replies'
import { AUTH_KEY, keyRow, startWorker, type Harness } from './harness'
import { GEMINI_PATH, googleInit, googleKey } from './helpers'

let h: Harness | undefined
afterEach(async () => {
  await h?.dispose()
  h = undefined
})

/** Blocks keys the way traffic does: each answers invalid once through the proxy. */
async function blockThroughTraffic(harness: Harness, keys: string[]): Promise<void> {
  for (const k of keys) harness.gateway.on(k, () => replies.googleInvalidKey())
  for (let i = 0; i < keys.length + 2; i++) await harness.fetch(GEMINI_PATH, googleInit())
}

test('recovery restores a blocked key that works again and leaves invalid and inconclusive ones blocked', async () => {
  h = await startWorker()
  const [recovered, stillInvalid, unreachable, spare] = [
    googleKey(1),
    googleKey(2),
    googleKey(3),
    googleKey(4),
  ]
  const ids = await h.addKeys('google-ai-studio', [recovered, stillInvalid, unreachable, spare])
  await blockThroughTraffic(h, [recovered, stillInvalid, unreachable])
  for (const id of ids.slice(0, 3)) expect((await keyRow(h.d1, id))?.status).toBe('blocked')

  h.gateway.reset()
  h.gateway.on(recovered, () => replies.googleOk())
  h.gateway.on(stillInvalid, () => replies.googleInvalidKey())
  h.gateway.on(unreachable, () => replies.googleOverloaded())
  await h.cron()

  expect(await keyRow(h.d1, ids[0]!)).toMatchObject({ status: 'active', blocked_reason: null })
  expect(await keyRow(h.d1, ids[1]!)).toMatchObject({ status: 'blocked', blocked_reason: 'API_KEY_INVALID' })
  expect(await keyRow(h.d1, ids[2]!)).toMatchObject({ status: 'blocked', blocked_reason: 'API_KEY_INVALID' })
  // Only the blocked keys were probed, each once, on the model list.
  expect(h.gateway.requests.map((r) => r.key).sort()).toEqual([recovered, stillInvalid, unreachable].sort())
  expect(h.gateway.requests.every((r) => r.method === 'GET' && r.path === 'v1beta/openai/models')).toBe(true)
  const restoredLines = () => h!.logs.filter((l) => l.includes('"event":"key_restored"'))
  await expect.poll(() => restoredLines().length).toBe(1)
  const restored = restoredLines()
  expect(restored[0]).toContain(`"keyId":${ids[0]}`)

  // The restored key serves traffic again.
  h.gateway.reset()
  for (let i = 0; i < 4; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  expect(h.gateway.callsFor(recovered)).toBeGreaterThan(0)
})

test('each run re-checks the blocked keys checked longest ago, a batch at a time', async () => {
  h = await startWorker({ vars: { RECOVERY_BATCH_SIZE: '2' } })
  const keys = [googleKey(1), googleKey(2), googleKey(3), googleKey(4), googleKey(5)]
  await h.addKeys('google-ai-studio', keys)
  await blockThroughTraffic(h, keys.slice(0, 4))
  h.gateway.reset()
  for (const k of keys) h.gateway.on(k, () => replies.googleInvalidKey())
  await h.cron()
  const first = h.gateway.requests.map((r) => r.key)
  await h.cron()
  const second = h.gateway.requests.map((r) => r.key).slice(2)
  expect(first).toHaveLength(2)
  expect(second).toHaveLength(2)
  expect(new Set([...first, ...second]).size).toBe(4)
})

test('SCHEDULED_RECOVERY=off: blocked keys are not probed', async () => {
  h = await startWorker({ vars: { SCHEDULED_RECOVERY: 'off' } })
  const [bad, good] = [googleKey(1), googleKey(2)]
  const [badId] = await h.addKeys('google-ai-studio', [bad, good])
  await blockThroughTraffic(h, [bad])
  h.gateway.reset()
  await h.cron()
  expect(h.gateway.requests).toHaveLength(0)
  expect((await keyRow(h.d1, badId!))?.status).toBe('blocked')
})

test('expired cooldowns are cleared, running ones kept, reading only keys that have one', async () => {
  h = await startWorker()
  const ids = await h.addKeys('google-ai-studio', [googleKey(1), googleKey(2), googleKey(3)])
  const now = Math.floor(Date.now() / 1000)
  // Each scope's reason is its name reversed, so a kept reason shows it belongs to its scope.
  const set = (id: number, cooldowns: Record<string, number>, next: number) =>
    h!.d1
      .prepare('UPDATE keys SET cooldowns = ?1, cooldown_next = ?2, cooldown_reasons = ?4 WHERE id = ?3')
      .bind(
        JSON.stringify(cooldowns),
        next,
        id,
        JSON.stringify(Object.fromEntries(Object.keys(cooldowns).map((k) => [k, [...k].reverse().join('')]))),
      )
      .run()
  await set(ids[0]!, { 'gemini-2.5-flash': now - 10, 'gemini-2.5-pro': now + 600 }, now - 10)
  await set(ids[1]!, { '*': now - 1 }, now - 1)
  await set(ids[2]!, { 'gemini-2.5-flash': now + 900 }, now + 900)
  await h.cron()
  expect(await keyRow(h.d1, ids[0]!)).toMatchObject({
    cooldowns: JSON.stringify({ 'gemini-2.5-pro': now + 600 }),
  })
  // The reasons of expired cooldowns go with them.
  const reasons = (id: number) =>
    h!.d1.prepare('SELECT cooldown_reasons AS r FROM keys WHERE id = ?1').bind(id).first<string>('r')
  expect(await reasons(ids[0]!)).toBe(JSON.stringify({ 'gemini-2.5-pro': 'orp-5.2-inimeg' }))
  expect(await reasons(ids[1]!)).toBe('{}')
  expect(await keyRow(h.d1, ids[1]!)).toMatchObject({ cooldowns: '{}' })
  expect(await keyRow(h.d1, ids[2]!)).toMatchObject({
    cooldowns: JSON.stringify({ 'gemini-2.5-flash': now + 900 }),
  })
  const next = await h.d1
    .prepare('SELECT id, cooldown_next AS n FROM keys ORDER BY id')
    .all<{ n: number | null }>()
  expect(next.results.map((r) => r.n)).toEqual([now + 600, null, now + 900])
  await expect
    .poll(() => h!.logs.some((l) => l.includes('"event":"cooldowns_swept"') && l.includes('"keys":2')))
    .toBe(true)
})

test('usage older than the retention is pruned; finished hours are compacted without changing a count', async () => {
  h = await startWorker({ vars: { STATS_RETENTION_DAYS: '7' } })
  const hourAgo = (hours: number) => {
    const t = Math.floor(Date.now() / 1000) - hours * 3600
    return t - (t % 3600)
  }
  const insert = (hour: number, entries: unknown[]) =>
    h!.d1
      .prepare('INSERT INTO usage_batches (hour, entries) VALUES (?1, ?2)')
      .bind(hour, JSON.stringify(entries))
      .run()
  // Eight days ago: beyond retention. Two hours ago: three flushes from two isolates.
  await insert(hourAgo(8 * 24), [[1, 'openai', 'gpt-4o', 5, 5, 0, 0, 1, null]])
  const recent = hourAgo(2)
  await insert(recent, [
    [
      1,
      'openai',
      'gpt-4o',
      3,
      2,
      1,
      0,
      recent + 10,
      `${String(recent + 10).padStart(12, '0')}|429|rate_limited`,
    ],
  ])
  await insert(recent, [
    // Written since tokens are counted: three more fields. The others, from before, have none.
    [1, 'openai', 'gpt-4o', 4, 4, 0, 0, recent + 20, null, 100, 40, 10],
    [2, 'openai', 'gpt-4o', 1, 0, 0, 1, recent + 5, `${String(recent + 5).padStart(12, '0')}|500|500`],
  ])
  await insert(recent, [[1, 'openai', 'gpt-4o-mini', 2, 2, 0, 0, recent + 30, null]])
  const stats = async () =>
    (await (
      await h!.fetch(`/admin/api/stats?since=${recent}`, { headers: { authorization: `Bearer ${AUTH_KEY}` } })
    ).json()) as { totals: object; keys: { id: number; totals: object; lastError: object | null }[] }
  const before = await stats()
  expect(before.totals).toEqual({
    requests: 10,
    successes: 8,
    rateLimited: 1,
    errors: 1,
    inputTokens: 100,
    outputTokens: 40,
    cachedTokens: 10,
  })

  // Pruned on the first run; compacted on the next, from rows the first folded (health/scheduled.ts).
  await h.cron()
  await h.cron()
  const rows = await h.d1.prepare('SELECT hour FROM usage_batches ORDER BY hour').all<{ hour: number }>()
  expect(rows.results.map((r) => r.hour)).toEqual([recent])
  expect(await stats()).toEqual(before)
  expect(before.keys.find((k) => k.id === 1)?.lastError).toMatchObject({
    status: 429,
    reason: 'rate_limited',
  })
})

test('old tombstones are purged, never the row a provider takes its next seq from', async () => {
  h = await startWorker({ vars: { POOL_REFRESH_SECONDS: '1' } })
  const ids = await h.addKeys('google-ai-studio', [googleKey(1), googleKey(2), googleKey(3), googleKey(4)])
  // A warm isolate that will have to see what comes after the purge.
  expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  const del = (which: number[]) =>
    h!.fetch('/admin/api/keys', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${AUTH_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ids: which }),
    })
  await del([ids[0]!, ids[1]!])
  await del([ids[2]!]) // the provider's highest seq is now this tombstone's
  // Seven days on, every isolate has long seen these deletions (a view reloads fully every 6 h).
  expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  const eightDaysAgo = Math.floor(Date.now() / 1000) - 8 * 86_400
  await h.d1
    .prepare("UPDATE keys SET deleted_at = ?1 WHERE status = 'deleted' AND id != ?2")
    .bind(eightDaysAgo, ids[1]!)
    .run()
  await h.d1.prepare('UPDATE keys SET deleted_at = ?1 WHERE id = ?2').bind(eightDaysAgo, ids[2]!).run()
  await h.cron()
  const left = await h.d1
    .prepare('SELECT id, status FROM keys ORDER BY id')
    .all<{ id: number; status: string }>()
  // ids[0]: old, purged. ids[1]: deleted recently, kept. ids[2]: old but holds the max seq, kept.
  expect(left.results).toEqual([
    { id: ids[1], status: 'deleted' },
    { id: ids[2], status: 'deleted' },
    { id: ids[3], status: 'active' },
  ])
  await h.addKeys('google-ai-studio', [googleKey(5)])
  h.gateway.reset()
  for (let i = 0; i < 4; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  expect(new Set(h.gateway.requests.map((r) => r.key))).toEqual(new Set([googleKey(4), googleKey(5)]))
})
