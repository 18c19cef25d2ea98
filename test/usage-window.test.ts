import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { zeroCounts } from '../worker/db/counts'
import type { UsageEntry } from '../worker/db/stats.repo'
import { REPO_BUNDLE } from './build'
import { startWorker, type Harness } from './harness'

// The dashboard's usage reads (admin/usage-window.ts, usage-older.ts), run inside workerd against a
// local D1 and held to D1's own sums of the same rows, through flushes, the cron's fold and
// compaction, and the hours going by. Times are passed in, so an hour can pass in a test.

let h: Harness
beforeEach(async () => {
  h = await startWorker({ scriptPath: REPO_BUNDLE, assets: false })
})
afterEach(() => h.dispose())

interface Usage {
  rowsRead: number
}

async function run<T>(fn: string, ...args: unknown[]): Promise<{ result: T; usage: Usage }> {
  const res = await h.fetch('/', { method: 'POST', body: JSON.stringify([{ fn, args }]) })
  if (res.status !== 200) throw new Error(`repo worker: ${res.status} ${await res.text()}`)
  const body = (await res.json()) as { results: T[]; usage: Usage }
  return { result: body.results[0] as T, usage: body.usage }
}

const HOUR = 3600
/** 2026-12-05 12:30 UTC, in ms. */
const NOW = Date.UTC(2026, 11, 5, 12, 30)
const hourOf = (ms: number) => Math.floor(ms / 1000) - (Math.floor(ms / 1000) % HOUR)
const CURRENT = hourOf(NOW)
const windowFrom = (ms: number) => hourOf(ms) - 24 * HOUR
const weekFrom = (ms: number) => hourOf(ms - 7 * 86_400_000)

/** A deterministic entry: counts from the seed, an error on some, tokens on most. */
function entry(keyId: number, model: string, hour: number, seed: number): UsageEntry {
  const requests = 1 + (seed % 7)
  const limited = seed % 5 === 0 ? 1 : 0
  const error = seed % 11 === 0 ? `${String(hour + (seed % 3000)).padStart(12, '0')}|429|rate_limited` : null
  const provider = keyId % 4 === 0 ? 'openai' : 'google-ai-studio'
  return [
    keyId,
    provider,
    model,
    requests,
    requests - limited,
    limited,
    0,
    hour + (seed % 3600),
    error,
    seed * 3,
    seed,
    seed % 4,
  ]
}

/** One batch row per call, as a flush (or the cron's compaction) writes it; returns its id. */
async function insert(hour: number, entries: UsageEntry[]): Promise<number> {
  const r = await h.d1
    .prepare('INSERT INTO usage_batches (hour, entries) VALUES (?1, ?2) RETURNING id')
    .bind(hour, JSON.stringify(entries))
    .first<{ id: number }>()
  return r!.id
}

/** A flush for `hour`: `n` keys from `first`, two models. */
const flush = (hour: number, first: number, n: number, seed = 1) =>
  insert(
    hour,
    Array.from({ length: n }, (_, i) =>
      entry(first + i, i % 2 ? 'gemini-2.5-pro' : 'gemini-2.5-flash', hour, seed * 31 + i),
    ),
  )

const byRow = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  JSON.stringify([a.hour, a.keyId, a.provider, a.model]).localeCompare(
    JSON.stringify([b.hour, b.keyId, b.provider, b.model]),
  )
const sorted = <T extends Record<string, unknown>>(rows: T[]) =>
  rows.map((r) => ({ ...r, lastUsed: r.lastUsed ?? 0 })).sort(byRow)

/** The window's rows at `ms`, and D1's own sum over the same hours. */
async function recentAndTruth(ms: number) {
  const recent = await run<Record<string, unknown>[]>('recentUsage', ms)
  const { result: truth } = await run<Record<string, unknown>[]>('usageSince', { since: windowFrom(ms) })
  return { recent: sorted(recent.result), truth: sorted(truth), usage: recent.usage }
}

describe('the last day, kept per isolate', () => {
  test('a refresh reads only the rows flushed since, and sums them as D1 does', async () => {
    for (let back = 30; back >= 1; back--) await flush(CURRENT - back * HOUR, 1, 40, back)
    for (let f = 0; f < 5; f++) await flush(CURRENT, f * 7, 12, 100 + f)
    const first = await recentAndTruth(NOW)
    expect(first.recent.length).toBeGreaterThan(500)
    expect(first.recent).toEqual(first.truth)
    // Its 29 rows read whole (and measured first), where D1 summing them reads each of ~1,000 entries.
    expect(first.usage.rowsRead).toBeLessThan(100)

    // Two more flushes, one of them late for the hour before.
    await flush(CURRENT, 3, 20, 200)
    await flush(CURRENT - HOUR, 30, 20, 201)
    const next = await recentAndTruth(NOW + 2_000)
    expect(next.recent).toEqual(next.truth)
    expect(next.recent).not.toEqual(first.recent)
    // The two new rows and the ids and mark they are measured against; a full read is thousands.
    expect(next.usage.rowsRead).toBeLessThanOrEqual(6)

    // Nothing new: the same answer for three rows read.
    const again = await recentAndTruth(NOW + 4_000)
    expect(again.recent).toEqual(next.truth)
    expect(again.usage.rowsRead).toBeLessThanOrEqual(3)
  })

  test('the overview’s sums per (hour, provider, model) follow new flushes, late ones and the hours going by', async () => {
    /** D1's own sums per (hour, provider, model) from `since`. */
    const truth = async (since: number) => {
      const { result } = await run<Record<string, unknown>[]>('usageSince', { since })
      const sums = new Map<string, Record<string, number | string>>()
      for (const r of result) {
        const id = `${r.hour}|${r.provider}|${r.model}`
        const s = sums.get(id) ?? {
          hour: r.hour as number,
          provider: r.provider as string,
          model: r.model as string,
        }
        for (const f of Object.keys(zeroCounts())) {
          s[f] = ((s[f] as number | undefined) ?? 0) + (r[f] as number)
        }
        sums.set(id, s)
      }
      return [...sums.values()].sort(byRow)
    }
    const summed = async (ms: number) =>
      (await run<Record<string, unknown>[]>('recentByModel', ms)).result.sort(byRow)
    for (let back = 26; back >= 0; back--) await flush(CURRENT - back * HOUR, 1 + (back % 5), 12, back)
    expect(await summed(NOW)).toEqual(await truth(windowFrom(NOW)))
    // A flush of this hour and a late one of an hour already summed, seen by the next call.
    await flush(CURRENT, 3, 20, 300)
    await flush(CURRENT - 5 * HOUR, 8, 30, 301)
    const later = NOW + 3_000
    expect(await summed(later)).toEqual(await truth(windowFrom(later)))
    // Two hours on: the oldest hours leave the sums.
    await flush(CURRENT + 2 * HOUR, 2, 6, 302)
    const next = NOW + 2 * 3_600_000
    const after = await summed(next)
    expect(after).toEqual(await truth(windowFrom(next)))
    expect(Math.min(...after.map((r) => r.hour as number))).toBe(windowFrom(next))
  })

  test('the keys page’s and the quota call’s folds follow new flushes, late ones, the hours going by and a restart', async () => {
    /** The folds at `ms` against the window's rows summed again. */
    const check = async (ms: number, since: number) => {
      const byKey = await run<Record<string, unknown>>('recentByKey', ms)
      const { result: summed } = await run<Record<string, unknown>>('recentByKeySummed', ms)
      expect(Object.keys(byKey.result).length).toBeGreaterThan(5)
      expect(byKey.result).toEqual(summed)
      const { result: counted } = await run<Record<string, Record<string, number>>>(
        'countedSince',
        'google-ai-studio',
        since,
        ms,
      )
      const { result: rows } = await run<Record<string, unknown>[]>('recentUsage', ms)
      const truth: Record<string, Record<string, number>> = {}
      for (const r of rows) {
        if (r.provider !== 'google-ai-studio' || (r.hour as number) < since) continue
        const model = (truth[r.model as string] ??= {})
        const key = String(r.keyId)
        model[key] = (model[key] ?? 0) + (r.requests as number) - (r.rateLimited as number)
      }
      expect(counted).toEqual(truth)
      return byKey.result
    }
    const since = CURRENT - 10 * HOUR
    for (let back = 26; back >= 0; back--) await flush(CURRENT - back * HOUR, 1 + (back % 5), 12, back)
    const first = await check(NOW, since)
    // A flush the cron compacts into an id already read before the window saw it: the window starts
    // over, and so do the folds, though that hour (one they hold) took no row the window saw.
    await flush(CURRENT - 6 * HOUR, 40, 10, 500)
    await run('cronUsage', CURRENT)
    expect((await run<number>('cronUsage', CURRENT)).result).toBeGreaterThan(0)
    const restarted = await check(NOW + 3_000, since)
    expect(restarted).not.toEqual(first)
    // This hour's flush, then a late one for an hour the folds already hold.
    await flush(CURRENT, 3, 20, 300)
    const next = await check(NOW + 6_000, since)
    expect(next).not.toEqual(restarted)
    await flush(CURRENT - 5 * HOUR, 8, 30, 301)
    const late = await check(NOW + 9_000, since)
    expect(late).not.toEqual(next)
    // Two hours on: the current hour is finished, the oldest ones leave the window.
    await flush(CURRENT + 2 * HOUR, 2, 6, 302)
    await check(NOW + 2 * 3_600_000, since)
  })

  test('a window that looks between two cron runs keeps its sums when the second compacts', async () => {
    const previous = CURRENT - HOUR
    for (let back = 24; back >= 2; back--) await flush(CURRENT - back * HOUR, 1, 5, back)
    await flush(previous, 1, 30, 1)
    await flush(previous, 10, 30, 2)
    await flush(CURRENT, 1, 10, 3)
    await recentAndTruth(NOW)
    await flush(previous, 20, 30, 4)
    // The first run folds the late flush; the window reads it; the second run compacts the hour.
    expect((await run<number>('cronUsage', CURRENT)).result).toBe(0)
    await recentAndTruth(NOW + 2_000)
    expect((await run<number>('cronUsage', CURRENT)).result).toBe(3)
    const after = await recentAndTruth(NOW + 4_000)
    expect(after.recent).toEqual(after.truth)
    // Nothing to start over for (that reads each of the day's rows twice, 50 and more): the ids
    // and the mark.
    expect(after.usage.rowsRead).toBeLessThanOrEqual(5)
  })

  test('a late flush the cron compacts under an id already read, before the window saw it, is counted once', async () => {
    const previous = CURRENT - HOUR
    await flush(previous, 1, 30, 1)
    await flush(previous, 10, 30, 2)
    await flush(CURRENT, 1, 10, 3)
    await recentAndTruth(NOW)
    // Written after the window's read, then folded and compacted into the hour's lowest id by two
    // cron runs the window did not look between.
    await flush(previous, 20, 30, 4)
    await run('cronUsage', CURRENT)
    expect((await run<number>('cronUsage', CURRENT)).result).toBe(3)
    const after = await recentAndTruth(NOW + 2_000)
    expect(after.recent).toEqual(after.truth)
  })

  test('a window nobody looked at for a long while starts over rather than parse every row since', async () => {
    for (let back = 24; back >= 1; back--) await flush(CURRENT - back * HOUR, 1, 5, back)
    await recentAndTruth(NOW)
    // More rows than a refresh takes whole before it has seen how large flushes are here (12).
    for (let f = 0; f < 20; f++) await flush(CURRENT, f, 5, 300 + f)
    const after = await recentAndTruth(NOW + 2_000)
    expect(after.recent).toEqual(after.truth)
    // Started over: the day's 44 rows read whole (their size first, then the rows).
    expect(after.usage.rowsRead).toBeGreaterThanOrEqual(2 * 44)
  })

  test('an hour whose fold would save no row keeps its rows, so rows already read are not moved', async () => {
    const previous = CURRENT - HOUR
    const odd = Array.from({ length: 1000 }, (_, i) => entry(2 * i + 1, 'gemini-2.5-flash', previous, i))
    const even = Array.from({ length: 1000 }, (_, i) => entry(2 * i + 2, 'gemini-2.5-flash', previous, i + 7))
    const first = await insert(previous, odd)
    await recentAndTruth(NOW)
    const second = await insert(previous, even)
    // 2,000 entries need both rows: folding them would only reshuffle entries between the two ids.
    await run('cronUsage', CURRENT)
    expect((await run<number>('cronUsage', CURRENT)).result).toBe(0)
    const { result: ids } = await run<{ id: number }[]>('sql', 'SELECT id FROM usage_batches ORDER BY id')
    expect(ids.map((r) => r.id)).toEqual([first, second])
    const after = await recentAndTruth(NOW + 2_000)
    expect(after.recent).toEqual(after.truth)
  })
})

describe('the week', () => {
  /** Eight days of hourly rows, so the week starts inside them. */
  async function seedWeek(): Promise<void> {
    for (let back = 8 * 24; back >= 0; back--) await flush(CURRENT - back * HOUR, 1 + (back % 5), 6, back)
  }

  const providerTotals = (rows: Record<string, unknown>[]) =>
    [...rows].sort((a, b) =>
      JSON.stringify([a.hour, a.provider]).localeCompare(JSON.stringify([b.hour, b.provider])),
    )

  test('older days are read once, then fed by the hours the window lets go', async () => {
    await seedWeek()
    const week = await run<Record<string, unknown>[]>('weekUsage', NOW)
    const truth = await run<Record<string, unknown>[]>('providerUsageSince', weekFrom(NOW))
    expect(providerTotals(week.result)).toEqual(providerTotals(truth.result))

    // Three hours later, with traffic in them: the window has let three hours go to the week.
    const later = NOW + 3 * 3_600_000
    for (let h2 = 1; h2 <= 3; h2++) await flush(CURRENT + h2 * HOUR, 2, 8, 500 + h2)
    const week2 = await run<Record<string, unknown>[]>('weekUsage', later)
    const truth2 = await run<Record<string, unknown>[]>('providerUsageSince', weekFrom(later))
    expect(providerTotals(week2.result)).toEqual(providerTotals(truth2.result))
    // The first read takes the week's rows whole (D1 summing them would read each entry, six an
    // hour); the next reads the new rows only.
    expect(week.usage.rowsRead).toBeGreaterThan(8 * 24)
    expect(week.usage.rowsRead).toBeLessThan(600)
    expect(week2.usage.rowsRead).toBeLessThanOrEqual(6)
  })

  test('hours the cron compacted are read from the totals it wrote; a flush after them still counts', async () => {
    // Two flushes an hour for eight days, compacted as the cron does (it looks back 48 hours a run).
    for (let back = 8 * 24; back >= 1; back--) {
      await flush(CURRENT - back * HOUR, 1 + (back % 5), 6, back)
      await flush(CURRENT - back * HOUR, 3, 4, back + 1000)
    }
    await run('cronUsage', CURRENT) // folds every row; compaction takes them on the next runs
    for (const before of [CURRENT, CURRENT - 48 * HOUR, CURRENT - 96 * HOUR, CURRENT - 144 * HOUR]) {
      await run('cronUsage', before)
    }
    const { result: left } = await run<{ n: number }[]>(
      'sql',
      `SELECT count(*) AS n FROM usage_batches WHERE totals IS NULL AND hour < ${CURRENT - 24 * HOUR}`,
    )
    expect(left[0]!.n).toBe(0)
    // A flush that came after its hour was compacted: not in the totals.
    await flush(CURRENT - 3 * 24 * HOUR, 40, 5, 77)
    const week = await run<Record<string, unknown>[]>('weekUsage', NOW)
    const truth = await run<Record<string, unknown>[]>('providerUsageSince', weekFrom(NOW))
    expect(providerTotals(week.result)).toEqual(providerTotals(truth.result))
    // A row an hour for the older days' totals (and their count), the late flush, and the day.
    expect(week.usage.rowsRead).toBeLessThan(4 * 24 * 7)
  })

  test('a key’s seven days, as its detail page reads them', async () => {
    await seedWeek()
    const key = 6 // in every seeded hour
    const detail = await run<Record<string, unknown>[]>('keyWeek', key, NOW)
    const truth = await run<Record<string, unknown>[]>('usageSince', { since: weekFrom(NOW), keyId: key })
    expect(detail.result.length).toBeGreaterThan(50)
    expect(sorted(detail.result)).toEqual(sorted(truth.result))

    const later = NOW + 2 * 3_600_000
    await flush(CURRENT + HOUR, 1, 8, 900)
    await flush(CURRENT + 2 * HOUR, 1, 8, 901)
    const detail2 = await run<Record<string, unknown>[]>('keyWeek', key, later)
    const truth2 = await run<Record<string, unknown>[]>('usageSince', { since: weekFrom(later), keyId: key })
    expect(sorted(detail2.result)).toEqual(sorted(truth2.result))
    expect(detail2.usage.rowsRead).toBeLessThanOrEqual(6)
  })
})

describe('a key’s seven days through the key index', () => {
  /** A week of flushes as the Worker writes them (key index included): 200 keys an hour, two models. */
  async function seedIndexedWeek(): Promise<void> {
    const calls = []
    for (let back = 7 * 24; back >= 0; back--) {
      const hour = CURRENT - back * HOUR
      const entries = Array.from({ length: 200 }, (_, i) =>
        entry(1 + i, i % 3 ? 'gemini-2.5-flash' : 'gemini-2.5-pro', hour, back * 1000 + i),
      )
      // The key under test in both models, and in a second flush of the same hour.
      entries.push(entry(7, 'gemini-2.5-pro', hour, back + 5))
      calls.push({ fn: 'flushEntries', args: [hour, entries] })
      if (back % 3 === 0)
        calls.push({ fn: 'flushEntries', args: [hour, [entry(7, 'gemini-2.5-flash', hour, back)]] })
    }
    const res = await h.fetch('/', { method: 'POST', body: JSON.stringify(calls) })
    expect(res.status).toBe(200)
  }

  test('reads the hours’ rows and the key’s own entries, not every entry of every key', async () => {
    await seedIndexedWeek()
    const key = 7
    const detail = await run<Record<string, unknown>[]>('keyWeek', key, NOW)
    const truth = await run<Record<string, unknown>[]>('usageSince', { since: weekFrom(NOW), keyId: key })
    // Key 7 in one model every hour, in the other every third: 169 + 57 (hour, model) rows.
    expect(detail.result.length).toBe(226)
    expect(sorted(detail.result)).toEqual(sorted(truth.result))
    // 34,000 entries (2.8 MB): summed by D1 that is a row read per entry. Through the index: the six
    // older days' rows and key 7's entries in them, and the day's window (whole rows).
    expect(truth.usage.rowsRead).toBeGreaterThan(30_000)
    expect(detail.usage.rowsRead).toBeLessThan(1_000)

    // A key missing from some rows (every third hour's second flush holds key 7 alone).
    const other = await run<Record<string, unknown>[]>('keyWeek', 5, NOW)
    const otherTruth = await run<Record<string, unknown>[]>('usageSince', { since: weekFrom(NOW), keyId: 5 })
    expect(other.result.length).toBe(169)
    expect(sorted(other.result)).toEqual(sorted(otherTruth.result))
  })

  test('still sums a week holding rows from before the index, and the rows the cron compacted', async () => {
    await seedIndexedWeek()
    await flush(CURRENT - 4 * 24 * HOUR, 1, 9, 42) // a row without an index, as written before it
    const key = 7
    const legacy = await run<Record<string, unknown>[]>('keyWeek', key, NOW)
    const truth = await run<Record<string, unknown>[]>('usageSince', { since: weekFrom(NOW), keyId: key })
    expect(sorted(legacy.result)).toEqual(sorted(truth.result))

    await run('sql', 'DELETE FROM usage_batches WHERE keys IS NULL')
    await run('cronUsage', CURRENT) // folds every row; compaction takes them on the next runs
    for (const before of [CURRENT, CURRENT - 48 * HOUR, CURRENT - 96 * HOUR, CURRENT - 144 * HOUR]) {
      await run('cronUsage', before)
    }
    const { result: compacted } = await run<{ n: number }[]>(
      'sql',
      `SELECT count(*) AS n FROM usage_batches WHERE totals IS NOT NULL AND keys IS NOT NULL`,
    )
    // The hours with two flushes (every third one): 57, all but the current one.
    expect(compacted[0]!.n).toBe(56)
    // Another key, whose week this isolate has not read yet: read from the compacted rows.
    const after = await run<Record<string, unknown>[]>('keyWeek', 5, NOW)
    const truth2 = await run<Record<string, unknown>[]>('usageSince', { since: weekFrom(NOW), keyId: 5 })
    expect(after.result.length).toBeGreaterThan(6 * 24)
    expect(sorted(after.result)).toEqual(sorted(truth2.result))
    expect(after.usage.rowsRead).toBeLessThan(1_000)
  })
})

describe('a day of compacted hours over 1 MB', () => {
  test('is read whole, a row read per row: D1 would answer as many rows as it holds entries', async () => {
    // Two flushes of the same 1,000 (key, model) pairs an hour for 14 hours, then compacted: 14 rows
    // of 1,000 entries, about 1.3 MB.
    const calls = []
    for (let back = 14; back >= 1; back--) {
      const hour = CURRENT - back * HOUR
      for (const seed of [1, 2]) {
        const entries = Array.from({ length: 1000 }, (_, i) =>
          entry(1 + (i >> 1), i % 2 ? 'gemini-2.5-pro' : 'gemini-2.5-flash', hour, back * 7 + seed * 3 + i),
        )
        calls.push({ fn: 'flushEntries', args: [hour, entries] })
      }
    }
    expect((await h.fetch('/', { method: 'POST', body: JSON.stringify(calls) })).status).toBe(200)
    await run('cronUsage', CURRENT) // folds every row; the next run compacts them
    await run('cronUsage', CURRENT)
    const { result: size } = await run<{ rows: number; bytes: number }[]>(
      'sql',
      'SELECT count(*) AS rows, sum(length(entries)) AS bytes FROM usage_batches WHERE totals IS NOT NULL',
    )
    expect(size[0]).toMatchObject({ rows: 14 })
    expect(size[0]!.bytes).toBeGreaterThan(1_000_000)
    await flush(CURRENT, 1, 20, 7) // this hour's flush
    const day = await recentAndTruth(NOW)
    expect(day.recent).toHaveLength(14_020)
    expect(day.recent).toEqual(day.truth)
    expect(day.usage.rowsRead).toBeLessThan(100)
  })
})

describe('more usage than a request should parse', () => {
  /** 15 rows of 1,000 entries (about 1.2 MB of JSON) in one hour: past SUM_IN_JS_BYTES. */
  async function bigHour(hour: number): Promise<void> {
    for (let r = 0; r < 15; r++) {
      await insert(
        hour,
        Array.from({ length: 1000 }, (_, i) =>
          entry(1 + ((r * 1000 + i) % 4000), 'gemini-2.5-flash', hour, r * 1000 + i),
        ),
      )
    }
  }

  test('is summed by D1 instead, to the same figures', async () => {
    await bigHour(CURRENT - 2 * HOUR)
    await bigHour(CURRENT - 3 * 24 * HOUR)
    await flush(CURRENT, 1, 20, 7)
    const day = await recentAndTruth(NOW)
    expect(day.recent).toEqual(day.truth)
    // D1 summed them: a read per entry, where whole rows would have been one each.
    expect(day.usage.rowsRead).toBeGreaterThan(15_000)

    const week = await run<Record<string, unknown>[]>('weekUsage', NOW)
    const truth = await run<Record<string, unknown>[]>('providerUsageSince', weekFrom(NOW))
    const order = (rows: Record<string, unknown>[]) =>
      [...rows].sort((a, b) =>
        JSON.stringify([a.hour, a.provider]).localeCompare(JSON.stringify([b.hour, b.provider])),
      )
    expect(order(week.result)).toEqual(order(truth.result))
    const key = await run<Record<string, unknown>[]>('keyWeek', 5, NOW)
    const keyTruth = await run<Record<string, unknown>[]>('usageSince', { since: weekFrom(NOW), keyId: 5 })
    expect(key.result.length).toBeGreaterThan(1)
    expect(sorted(key.result)).toEqual(sorted(keyTruth.result))
  })
})
