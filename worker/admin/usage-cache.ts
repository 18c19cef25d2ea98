import { parseLastError, usageSince, type StatsRow } from '../db/stats.repo'

/** The dashboard's last-24-hours usage, read at most once per 15 s per isolate. */
const TTL_MS = 15_000
const cache = new WeakMap<D1Database, { at: number; rows: Promise<StatsRow[]> }>()

export interface KeyUsage {
  requests: number
  successes: number
  rateLimited: number
  errors: number
  lastUsed: number | null
  lastError: { at: number; status: number; reason: string } | null
}

export function recentUsage(d1: D1Database, now = Date.now()): Promise<StatsRow[]> {
  const hit = cache.get(d1)
  if (hit && now - hit.at < TTL_MS) return hit.rows
  const since = Math.floor(now / 1000) - 24 * 3600
  const rows = usageSince(d1, { since: since - (since % 3600) })
  cache.set(d1, { at: now, rows })
  rows.catch(() => cache.delete(d1))
  return rows
}

export function usageByKey(rows: StatsRow[]): Map<number, KeyUsage> {
  const byKey = new Map<number, KeyUsage>()
  for (const r of rows) {
    let u = byKey.get(r.key_id)
    if (!u) {
      u = { requests: 0, successes: 0, rateLimited: 0, errors: 0, lastUsed: null, lastError: null }
      byKey.set(r.key_id, u)
    }
    u.requests += r.requests
    u.successes += r.successes
    u.rateLimited += r.rate_limited
    u.errors += r.errors
    u.lastUsed = Math.max(u.lastUsed ?? 0, r.last_used ?? 0) || null
    const e = parseLastError(r.last_error)
    if (e && (!u.lastError || e.at >= u.lastError.at)) u.lastError = e
  }
  return byKey
}
