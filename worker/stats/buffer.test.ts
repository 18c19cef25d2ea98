import { afterEach, describe, expect, test, vi } from 'vitest'
import { StatsBuffer } from './buffer'
import { ATTEMPTS } from '../db/retry'

/** A D1 stand-in that fails the next batches with the given errors, then records what it is sent. */
function fakeD1(failures: Error[]) {
  const written: unknown[][][] = []
  const statement = (sql: string) => ({ bind: (...args: unknown[]) => ({ sql, args }) })
  const d1 = {
    prepare: statement,
    async batch(statements: { args: unknown[] }[]) {
      const failure = failures.shift()
      if (failure) throw failure
      written.push(statements.map((s) => s.args))
      return statements.map(() => ({ meta: { rows_read: 0, rows_written: 1 } }))
    },
  }
  return { d1: d1 as unknown as D1Database, written }
}

/** D1 answering "overloaded" `n` times in a row; a flush tries ATTEMPTS times (db/retry.ts). */
const busyFor = (n: number) =>
  Array.from({ length: n }, () => new Error('D1 DB is overloaded. Requests queued for too long.'))

const event = (keyId: number) => ({
  keyId,
  provider: 'openai',
  model: 'gpt-4o-mini',
  outcome: 'success' as const,
})
/** The usage entries of every row written (a row is bound as id, hour, entries, requests). */
const entries = (written: unknown[][][]) =>
  written.flatMap((batch) => batch.flatMap((args) => JSON.parse(String(args[2])) as unknown[][]))
/** The request entries of every row written. */
const requestEntries = (written: unknown[][][]) =>
  written.flatMap((batch) =>
    batch.flatMap((args) => (args[3] ? (JSON.parse(String(args[3])) as unknown[][]) : [])),
  )

describe('StatsBuffer', () => {
  test('counts D1 refuses for their content are dropped, so they cannot block every later flush', async () => {
    const { d1, written } = fakeD1([new Error('D1_ERROR: string or blob too big: SQLITE_TOOBIG')])
    const buffer = new StatsBuffer(d1, 1000)
    buffer.record(event(1))
    await buffer.flush()
    buffer.record(event(2))
    await buffer.flush()
    expect(entries(written).map((e) => e[0])).toEqual([2])
  })

  test('requests are counted by outcome and duration, carried past a busy D1, in the row of their hour', async () => {
    const { d1, written } = fakeD1(busyFor(ATTEMPTS))
    const buffer = new StatsBuffer(d1, 1000)
    const at = 1_800_000_000_000
    const model = { provider: 'openai', model: 'gpt-4o-mini' }
    buffer.record(event(1), at)
    buffer.recordRequest({ ...model, status: 200, ms: 40 }, at)
    buffer.recordRequest({ ...model, status: 200, ms: 700 }, at)
    await buffer.flush()
    buffer.recordRequest({ ...model, status: 429, ms: 3 }, at)
    buffer.recordRequest({ ...model, status: 400, ms: 120 }, at)
    buffer.recordRequest({ ...model, status: 503, ms: 90_000 }, at)
    buffer.recordBlock(model, at)
    await buffer.flush()
    // [provider, model, ok, clientErrors, limited, failed, blocks, msSum, ≤50, ≤100, ≤250, ≤500, ≤1000, …, over]
    expect(requestEntries(written)).toEqual([
      ['openai', 'gpt-4o-mini', 2, 1, 1, 1, 1, 90_863, 2, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1],
    ])
  })

  test('a flush that meets a busy D1 tries again at once: the last counts of a quiet isolate land', async () => {
    const { d1, written } = fakeD1(busyFor(2))
    const buffer = new StatsBuffer(d1, 1000)
    buffer.record(event(1))
    await buffer.flush()
    expect(entries(written).map((e) => e[0])).toEqual([1])
  })

  test('counts that met a D1 busy through every try are kept and carried by the next flush', async () => {
    const { d1, written } = fakeD1(busyFor(ATTEMPTS))
    const buffer = new StatsBuffer(d1, 1000)
    buffer.record(event(1))
    await buffer.flush()
    buffer.record(event(2))
    await buffer.flush()
    expect(
      entries(written)
        .map((e) => e[0])
        .sort(),
    ).toEqual([1, 2])
  })

  describe('when it flushes', () => {
    afterEach(() => vi.useRealTimers())

    /**
     * Requests once a second for `seconds`, then silence; records how long each piece of background
     * work handed to `waitUntil` took to settle (Cloudflare cancels it after 30 s).
     */
    async function traffic(flushMs: number, seconds: number) {
      vi.useFakeTimers()
      const { d1, written } = fakeD1([])
      const buffer = new StatsBuffer(d1, flushMs)
      const lifetimes: number[] = []
      const waitUntil = (p: Promise<unknown>) => {
        const from = Date.now()
        void p.then(() => lifetimes.push(Date.now() - from))
      }
      for (let i = 0; i < seconds; i++) {
        buffer.record(event(i % 3))
        buffer.schedule(waitUntil)
        await vi.advanceTimersByTimeAsync(1000)
      }
      await vi.advanceTimersByTimeAsync(60_000)
      const requests = entries(written).reduce((t, e) => t + Number(e[3]), 0)
      return { batches: written.length, requests, lifetimes }
    }

    test('a busy isolate with a 60 s interval writes once a minute, and every count lands', async () => {
      const { batches, requests, lifetimes } = await traffic(60_000, 180)
      // The first request, then one a minute (at 60, 120 s), then the trailing flush after traffic stops.
      expect(batches).toBe(4)
      expect(requests).toBe(180)
      // No background work outlives what Cloudflare allows a request (30 s).
      expect(Math.max(...lifetimes)).toBeLessThanOrEqual(20_000)
    })

    test('a 5 s interval writes about every 5 s while busy, and what is left 5 s after it stops', async () => {
      const { batches, requests } = await traffic(5_000, 60)
      expect(requests).toBe(60)
      expect(batches).toBeGreaterThanOrEqual(12)
      expect(batches).toBeLessThanOrEqual(14)
    })
  })
})

describe('model names (their number is the caller’s to choose)', () => {
  const at = (model: string, outcome: 'success' | 'rate_limited' | 'error') => ({
    keyId: 1,
    provider: 'openai',
    model,
    outcome,
  })
  const models = (written: unknown[][][]) => entries(written).map((e) => e[2])

  test('a model is named once it answered 2xx or 429; errors of models never proven share (other)', async () => {
    const { d1, written } = fakeD1([])
    const buffer = new StatsBuffer(d1, 1000)
    for (let i = 0; i < 1000; i++) buffer.record(at(`made-up-${i}`, 'error'))
    buffer.record(at('gpt-4o-mini', 'success'))
    buffer.record(at('gpt-4o-mini', 'error'))
    buffer.record(at('gpt-4o', 'rate_limited'))
    buffer.record(at('(default)', 'error'))
    await buffer.flush()
    expect(models(written).sort()).toEqual(['(default)', '(other)', 'gpt-4o', 'gpt-4o-mini'])
    const other = entries(written).find((e) => e[2] === '(other)')!
    expect(other[3]).toBe(1000) // every request still counted
  })

  test('an error met before the model’s first success in the same window keeps the model’s name', async () => {
    const { d1, written } = fakeD1([])
    const buffer = new StatsBuffer(d1, 1000)
    buffer.record(at('gpt-4.1', 'error'))
    buffer.record(at('gpt-4.1', 'success'))
    await buffer.flush()
    expect(entries(written)).toEqual([
      [1, 'openai', 'gpt-4.1', 2, 1, 0, 1, expect.any(Number), expect.any(String), 0, 0, 0],
    ])
  })

  test('tokens join their key and model; a stream ending after a flush is counted in the next', async () => {
    const { d1, written } = fakeD1([])
    const buffer = new StatsBuffer(d1, 1000)
    const answer = { keyId: 1, provider: 'openai', model: 'gpt-4o-mini' }
    buffer.record({ ...answer, outcome: 'success' })
    buffer.recordTokens(answer, { input: 12, output: 7, cached: 4 })
    await buffer.flush()
    // The stream's tokens arrive once its body has passed, after the flush that took its request.
    buffer.record({ ...answer, outcome: 'success' })
    await buffer.flush()
    buffer.recordTokens(answer, { input: 5, output: 2, cached: 0 })
    await buffer.flush()
    expect(entries(written).map((e) => [e[3], e[4], e[9], e[10], e[11]])).toEqual([
      [1, 1, 12, 7, 4],
      [1, 1, 0, 0, 0],
      [0, 0, 5, 2, 0],
    ])
  })

  test('past 200 named models a provider’s further names share (other) too', async () => {
    const { d1, written } = fakeD1([])
    const buffer = new StatsBuffer(d1, 1000)
    for (let i = 0; i < 250; i++) buffer.record(at(`m-${i}`, 'success'))
    await buffer.flush()
    expect(new Set(models(written)).size).toBe(201)
  })

  test('events beyond the buffer’s bound are counted in a log line, never dropped silently', async () => {
    const logs: string[] = []
    const spy = vi.spyOn(console, 'log').mockImplementation((line: string) => void logs.push(line))
    const { d1 } = fakeD1([])
    const buffer = new StatsBuffer(d1, 1000)
    for (let key = 0; key < 20_005; key++) buffer.record({ ...at('gpt-4o-mini', 'success'), keyId: key })
    await buffer.flush()
    spy.mockRestore()
    expect(logs.map((l) => JSON.parse(l) as object)).toContainEqual(
      expect.objectContaining({ event: 'stats_dropped', events: 5, reason: 'buffer_full' }),
    )
  })
})
