import { addCounts, zeroCounts, type Counts } from '../db/counts'
import { perIsolate } from '../db/per-isolate'
import { SharedRead } from '../db/shared-read'
import { sampleRowsAfter, samplesByProvider, type SampleRow, type StateSample } from '../db/samples.repo'
import { parseLastError, providerUsageSince, usageSince, type StatsRow } from '../db/stats.repo'

/**
 * A read shared by every admin call of this isolate for `ttlMs`: concurrent calls share one query,
 * and a failed read is not kept.
 */
function shared<T>(ttlMs: number, read: (d1: D1Database, now: number) => Promise<T>) {
  const cache = new WeakMap<D1Database, { at: number; value: Promise<T> }>()
  return (d1: D1Database, now = Date.now()): Promise<T> => {
    const hit = cache.get(d1)
    if (hit && now - hit.at < ttlMs) return hit.value
    const value = read(d1, now)
    cache.set(d1, { at: now, value })
    value.catch(() => cache.delete(d1))
    return value
  }
}

const hourStart = (unixSeconds: number) => unixSeconds - (unixSeconds % 3600)
const WEEK_SECONDS = 7 * 24 * 3600

/**
 * The dashboard's last-24-hours usage, read at most every 2 s per isolate: counts show within
 * STATS_FLUSH_SECONDS plus 2 s of the requests they count.
 */
export const recentUsage = shared(2_000, (d1, now) =>
  usageSince(d1, { since: hourStart(Math.floor(now / 1000) - 24 * 3600) }),
)

/** The overview's 7-day usage per provider and hour: a minute old at most, as a week's chart can be. */
export const weekUsage = shared(60_000, (d1, now) =>
  providerUsageSince(d1, hourStart(Math.floor(now / 1000) - WEEK_SECONDS)),
)

/**
 * The cron's key-state samples of the last 7 days, kept in this isolate: after the first call reads
 * the week (about 1,000 rows), each call reads only the samples written since the newest it holds,
 * at most every 2 s: about one row per 10 minutes, however long a dashboard stays open.
 */
class SampleHistory {
  private rows: SampleRow[] = []
  private readAt = 0
  private readonly reading = new SharedRead()

  constructor(private readonly d1: D1Database) {}

  async get(now: number): Promise<Map<string, StateSample[]>> {
    if (now - this.readAt >= 2_000) {
      // Concurrent admin calls share one read.
      await this.reading.join(() => this.read(now), now)
    }
    return samplesByProvider(this.rows)
  }

  private async read(now: number): Promise<void> {
    const from = Math.floor(now / 1000) - WEEK_SECONDS
    const newest = this.rows.at(-1)?.at ?? from - 1
    const fresh = await sampleRowsAfter(this.d1, Math.max(newest, from - 1))
    this.rows = [...this.rows.filter((r) => r.at >= from), ...fresh]
    this.readAt = now
  }
}

const histories = perIsolate<SampleHistory>()

export function weekSamples(d1: D1Database, now = Date.now()): Promise<Map<string, StateSample[]>> {
  return histories(d1, () => new SampleHistory(d1)).get(now)
}

export interface KeyUsage extends Counts {
  lastUsed: number | null
  lastError: { at: number; status: number; reason: string } | null
}

export const NO_USAGE: Readonly<KeyUsage> = { ...zeroCounts(), lastUsed: null, lastError: null }

/** Folds usage rows into one figure per key, keeping its latest use and latest error. */
export function usageByKey(rows: StatsRow[]): Map<number, KeyUsage> {
  const byKey = new Map<number, KeyUsage>()
  for (const r of rows) {
    let u = byKey.get(r.keyId)
    if (!u) byKey.set(r.keyId, (u = { ...NO_USAGE }))
    addCounts(u, r)
    u.lastUsed = Math.max(u.lastUsed ?? 0, r.lastUsed ?? 0) || null
    const e = parseLastError(r.lastError)
    if (e && (!u.lastError || e.at >= u.lastError.at)) u.lastError = e
  }
  return byKey
}
