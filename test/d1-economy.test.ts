import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { MockGateway } from './gateway/mock-gateway'
import { replies } from './gateway/replies'
import { keyRow, startWorker, type Harness } from './harness'
import { adminHeaders, GEMINI_PATH, googleInit, googleKey } from './helpers'

interface Usage {
  queries: number
  rowsRead: number
  rowsWritten: number
}

async function usage(h: Harness): Promise<Usage> {
  const res = await h.fetch('/admin/api/metrics', { headers: adminHeaders() })
  return ((await res.json()) as { d1: Usage }).d1
}

describe('a pool of 1,000 keys', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startWorker({ vars: { POOL_REFRESH_SECONDS: '1', STATS_FLUSH_SECONDS: '1' } })
    await h.addKeys(
      'google-ai-studio',
      Array.from({ length: 1000 }, (_, i) => googleKey(i)),
    )
    // Warm the isolate's view (the one full load it does).
    expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  })
  afterAll(() => h.dispose())

  test('successful requests write no row of their own and read (almost) none, refreshes included', async () => {
    const before = await usage(h)
    const started = Date.now()
    let n = 0
    // Long enough for the 1 s refresh and stats flush intervals to fire a few times.
    while (Date.now() - started < 2500 || n < 200) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => h.fetch(GEMINI_PATH, googleInit())))
      for (const r of batch) expect(r.status).toBe(200)
      n += batch.length
    }
    await new Promise((r) => setTimeout(r, 1500)) // let the last refresh and stats flush finish
    const after = await usage(h)
    const seconds = (Date.now() - started) / 1000
    // The only writes are the usage counters, flushed as one upsert per (key, model, hour) per interval.
    expect(after.rowsWritten - before.rowsWritten).toBeGreaterThan(0)
    expect((after.rowsWritten - before.rowsWritten) / n).toBeLessThan(0.1)
    expect(after.queries - before.queries).toBeGreaterThan(0) // the view was refreshed…
    // …without reading the pool again: what is read is a handful of rows per refresh and per flush
    // (the day tally's row, pool/day-tally.ts; each one a second here), so it follows the clock, not
    // the requests. On a loaded machine fewer requests fit in
    // the same seconds, so a per-request bound flakes (quiet: 750 requests, 4 s, 10 rows). One row
    // per request, or one reload of the pool, breaks the bound many times over.
    const read = after.rowsRead - before.rowsRead
    expect(read / seconds).toBeLessThan(8)
    expect(read).toBeLessThan(100)
  })
})

describe('the cost of a 429', () => {
  let h: Harness
  beforeAll(async () => {
    // No refresh and no stats flush can fall inside the test: what it measures is the 429 alone.
    h = await startWorker({ vars: { POOL_REFRESH_SECONDS: '3600', STATS_FLUSH_SECONDS: '60' } })
    await h.addKeys(
      'google-ai-studio',
      Array.from({ length: 1000 }, (_, i) => googleKey(i)),
    )
    expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  })
  afterAll(() => h.dispose())

  test('one cooldown statement and one catch-up read: a handful of rows, whatever the pool size', async () => {
    const key = googleKey(5)
    h.gateway.on(key, () => replies.googleMinute429())
    const before = await usage(h)
    for (let i = 0; i < 1000 && h.gateway.callsFor(key) === 0; i++) {
      expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    }
    expect(h.gateway.callsFor(key)).toBe(1)
    const after = await usage(h)
    // The cooldown, and the read of rows other isolates changed that a 429 triggers (at most every
    // 100 ms per isolate: in a storm they have likely met other limited keys).
    expect(after.queries - before.queries).toBeLessThanOrEqual(2)
    // The row, and its entries in the (provider, seq) and partial indexes.
    expect(after.rowsWritten - before.rowsWritten).toBeGreaterThan(0)
    expect(after.rowsWritten - before.rowsWritten).toBeLessThanOrEqual(6)
    expect(after.rowsRead - before.rowsRead).toBeLessThanOrEqual(6)
  })
})

describe('concurrency and several isolates on one D1', () => {
  let dir: string
  let a: Harness
  let b: Harness
  const gateway = new MockGateway()
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyrelay-d1-'))
    a = await startWorker({ d1Persist: dir, gateway, vars: { POOL_REFRESH_SECONDS: '1' } })
    b = await startWorker({
      d1Persist: dir,
      gateway,
      vars: { POOL_REFRESH_SECONDS: '1' },
      applyMigrations: false,
    })
  })
  afterAll(async () => {
    await a.dispose()
    await b.dispose()
    rmSync(dir, { recursive: true, force: true })
  })

  test('concurrent 429s on many keys and models from two instances: no cooldown is lost', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => googleKey(100 + i))
    const ids = await a.addKeys('google-ai-studio', [...keys, googleKey(999)])
    const models = ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.0-flash']
    // Every key is rate-limited for every model; only the last key answers.
    for (const k of keys) gateway.on(k, () => replies.googleMinute429())
    const requests = []
    for (let round = 0; round < 6; round++) {
      for (const model of models) {
        const path = `/api/google-ai-studio/v1beta/models/${model}:generateContent`
        requests.push(a.fetch(path, googleInit()), b.fetch(path, googleInit()))
      }
    }
    const responses = await Promise.all(requests)
    for (const r of responses) expect([200, 429]).toContain(r.status)

    // Every (key, model) pair that received a 429 has its cooldown in D1, whichever instance saw it.
    const hit = new Set(
      gateway.requests
        .filter((r) => keys.includes(r.key!))
        .map((r) => `${r.key}|${/models\/([^:]+)/.exec(r.path)![1]}`),
    )
    expect([...a.logs, ...b.logs].filter((l) => l.includes('state_write_failed'))).toEqual([])
    expect(hit.size).toBeGreaterThan(models.length)
    for (const pair of hit) {
      const [key, model] = pair.split('|') as [string, string]
      const row = await keyRow(a.d1, ids[keys.indexOf(key)]!)
      expect(JSON.parse(row!.cooldowns)[model], pair).toBeGreaterThan(Date.now() / 1000)
    }
  })

  test('a cooldown set by one instance is honoured by the other after its next refresh', async () => {
    gateway.reset()
    const [limited, other] = [googleKey(600), googleKey(601)]
    await a.addKeys('google-ai-studio', [limited, other])
    // b learns about both keys; then a sees the per-minute 429.
    await new Promise((r) => setTimeout(r, 1100))
    for (let i = 0; i < 12; i++) expect((await b.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    expect(gateway.callsFor(limited)).toBeGreaterThan(0) // b does use it
    gateway.on(limited, () => replies.googleMinute429())
    for (let i = 0; i < 6 && gateway.callsFor(limited) < 3; i++) await a.fetch(GEMINI_PATH, googleInit())
    const callsBefore = gateway.callsFor(limited)
    await new Promise((r) => setTimeout(r, 1100)) // b's refresh interval
    // About four keys are eligible here: without the refresh, 12 requests would reach it about 3 times.
    for (let i = 0; i < 12; i++) expect((await b.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    // At most the one request that noticed staleness may still use the old view.
    expect(gateway.callsFor(limited) - callsBefore).toBeLessThanOrEqual(1)
  })

  test('a block set by one instance is honoured by the other after its next refresh', async () => {
    gateway.reset()
    const [victim, other] = [googleKey(500), googleKey(501)]
    const [victimId] = await a.addKeys('google-ai-studio', [victim, other])
    // b learns about both keys first (its view is warm), then a finds the victim invalid.
    await new Promise((r) => setTimeout(r, 1100))
    for (let i = 0; i < 12; i++) expect((await b.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    expect(gateway.callsFor(victim)).toBeGreaterThan(0) // b does use it
    gateway.on(victim, () => replies.googleInvalidKey())
    for (let i = 0; i < 4 && (await keyRow(a.d1, victimId!))?.status !== 'blocked'; i++) {
      await a.fetch(GEMINI_PATH, googleInit())
    }
    expect((await keyRow(a.d1, victimId!))?.status).toBe('blocked')
    const callsBefore = gateway.callsFor(victim)
    await new Promise((r) => setTimeout(r, 1100)) // b's refresh interval
    for (let i = 0; i < 6; i++) expect((await b.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    // At most the one request that noticed staleness may still use the old view.
    expect(gateway.callsFor(victim) - callsBefore).toBeLessThanOrEqual(1)
  })
})
