import type { Env } from '../config'
import { parseLastError, usageSince, type StatsRow } from '../db/stats.repo'
import { keysByIds } from '../db/health.repo'
import { parseQuery } from '../http/validate'
import { maskKey } from '../log'
import { requireAdmin } from './guard'
import { StatsQuery } from './keys.schemas'

interface Counts {
  requests: number
  successes: number
  rateLimited: number
  errors: number
}

const zero = (): Counts => ({ requests: 0, successes: 0, rateLimited: 0, errors: 0 })

function add(into: Counts, row: StatsRow): void {
  into.requests += row.requests
  into.successes += row.successes
  into.rateLimited += row.rate_limited
  into.errors += row.errors
}

/** Totals plus an hourly series (hours with traffic only), for one group of rows. */
class Series {
  readonly totals = zero()
  private readonly hours = new Map<number, Counts>()
  add(row: StatsRow): void {
    add(this.totals, row)
    let h = this.hours.get(row.hour)
    if (!h) this.hours.set(row.hour, (h = zero()))
    add(h, row)
  }
  get hourly() {
    return [...this.hours.entries()].sort(([a], [b]) => a - b).map(([hour, c]) => ({ hour, ...c }))
  }
}

/** `GET /admin/api/stats?provider=&keyId=&since=`: totals and hourly series per provider and per key. */
export async function getStats(request: Request, env: Env): Promise<Response> {
  await requireAdmin(request, env)
  const q = parseQuery(new URL(request.url), StatsQuery)
  const now = Math.floor(Date.now() / 1000)
  const since = q.since ?? now - 24 * 3600
  const rows = await usageSince(env.DB, {
    since: since - (since % 3600),
    provider: q.provider,
    keyId: q.keyId,
  })

  const all = new Series()
  const providers = new Map<string, Series>()
  const keys = new Map<number, { provider: string; series: Series; lastUsed: number; lastError?: object }>()
  for (const row of rows) {
    all.add(row)
    if (!providers.has(row.provider)) providers.set(row.provider, new Series())
    providers.get(row.provider)?.add(row)
    let k = keys.get(row.key_id)
    if (!k) keys.set(row.key_id, (k = { provider: row.provider, series: new Series(), lastUsed: 0 }))
    k.series.add(row)
    k.lastUsed = Math.max(k.lastUsed, row.last_used ?? 0)
    const error = parseLastError(row.last_error)
    if (error && error.at >= ((k.lastError as { at?: number } | undefined)?.at ?? 0)) k.lastError = error
  }
  const stored = new Map((await keysByIds(env.DB, [...keys.keys()])).map((r) => [r.id, r.key]))
  return Response.json({
    since,
    totals: all.totals,
    providers: [...providers.entries()].map(([provider, s]) => ({
      provider,
      totals: s.totals,
      hourly: s.hourly,
    })),
    keys: [...keys.entries()].map(([id, k]) => ({
      id,
      provider: k.provider,
      // Deleted keys keep their history; their key material is gone.
      key: stored.has(id) ? maskKey(stored.get(id) as string) : null,
      totals: k.series.totals,
      lastUsed: k.lastUsed || null,
      lastError: k.lastError ?? null,
      hourly: k.series.hourly,
    })),
  })
}
