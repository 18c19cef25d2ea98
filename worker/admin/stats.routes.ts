import { loadConfig, type Env } from '../config'
import { addCounts, zeroCounts, type Counts } from '../db/counts'
import { keysByIds } from '../db/health.repo'
import type { StatsRow } from '../db/stats.repo'
import { parseQuery } from '../http/validate'
import { maskKey } from '../log'
import { StatsQuery } from './keys.schemas'
import { usageByKey, usageFrom } from './usage-cache'

/** Totals plus an hourly series (hours with traffic only), for one group of rows. */
class Series {
  readonly totals = zeroCounts()
  private readonly hours = new Map<number, Counts>()
  add(row: StatsRow): void {
    addCounts(this.totals, row)
    let h = this.hours.get(row.hour)
    if (!h) this.hours.set(row.hour, (h = zeroCounts()))
    addCounts(h, row)
  }
  get hourly() {
    return [...this.hours.entries()].sort(([a], [b]) => a - b).map(([hour, c]) => ({ hour, ...c }))
  }
}

/** Groups rows by a field, one Series each. */
function seriesBy<K>(rows: StatsRow[], key: (r: StatsRow) => K): Map<K, Series> {
  const groups = new Map<K, Series>()
  for (const row of rows) {
    let s = groups.get(key(row))
    if (!s) groups.set(key(row), (s = new Series()))
    s.add(row)
  }
  return groups
}

/** `GET /admin/api/stats?provider=&keyId=&since=`: totals and hourly series per provider and per key. */
export async function getStats(request: Request, env: Env): Promise<Response> {
  const q = parseQuery(new URL(request.url), StatsQuery)
  const now = Math.floor(Date.now() / 1000)
  const since = q.since ?? now - 24 * 3600
  const rows = await usageFrom(env.DB, {
    since,
    provider: q.provider,
    keyId: q.keyId,
  })
  const all = new Series()
  for (const row of rows) all.add(row)
  const providers = seriesBy(rows, (r) => r.provider)
  const keys = seriesBy(rows, (r) => r.keyId)
  const usage = usageByKey(rows)
  const providerOf = new Map(rows.map((r) => [r.keyId, r.provider]))
  const { vault } = loadConfig(env)
  const stored = new Map(
    await Promise.all(
      (await keysByIds(env.DB, [...keys.keys()])).map(
        async (r) => [r.id, await vault.open(r.key).catch(() => '')] as const,
      ),
    ),
  )
  return Response.json({
    since,
    totals: all.totals,
    providers: [...providers].map(([provider, s]) => ({ provider, totals: s.totals, hourly: s.hourly })),
    keys: [...keys].map(([id, s]) => ({
      id,
      provider: providerOf.get(id),
      // Deleted keys keep their history; their key material is gone.
      key: stored.has(id) ? maskKey(stored.get(id) as string) : null,
      totals: s.totals,
      lastUsed: usage.get(id)?.lastUsed ?? null,
      lastError: usage.get(id)?.lastError ?? null,
      hourly: s.hourly,
    })),
  })
}
