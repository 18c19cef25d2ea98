import { addCounts, zeroCounts, type Counts } from '../db/counts'
import { parseLastError, usageSince, type StatsRow } from '../db/stats.repo'

/**
 * The dashboard's last-24-hours usage, read at most every 2 s per isolate: concurrent admin calls
 * share one read, and counts show within STATS_FLUSH_SECONDS plus 2 s of the requests they count.
 */
const TTL_MS = 2_000
const cache = new WeakMap<D1Database, { at: number; rows: Promise<StatsRow[]> }>()

export interface KeyUsage extends Counts {
  lastUsed: number | null
  lastError: { at: number; status: number; reason: string } | null
}

export const NO_USAGE: Readonly<KeyUsage> = { ...zeroCounts(), lastUsed: null, lastError: null }

export function recentUsage(d1: D1Database, now = Date.now()): Promise<StatsRow[]> {
  const hit = cache.get(d1)
  if (hit && now - hit.at < TTL_MS) return hit.rows
  const since = Math.floor(now / 1000) - 24 * 3600
  const rows = usageSince(d1, { since: since - (since % 3600) })
  cache.set(d1, { at: now, rows })
  rows.catch(() => cache.delete(d1))
  return rows
}

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
