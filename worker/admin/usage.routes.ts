import type { Env } from '../config'
import { dailyClientTotals, liveClients } from '../db/clients.repo'
import { usageSince } from '../db/stats.repo'
import { dayPeriod, tokensOf } from '../clients/quotas'
import * as z from '../http/schema'
import { wholeNumber } from '../http/schema'
import { parseQuery } from '../http/validate'

const UsageQuery = z.object({
  /** One row per UTC day and client key, per pool key and model, or per provider and model. */
  by: z._default(z.enum(['client', 'key', 'model']), 'client'),
  /** UTC days back, today included. Pool key usage is kept STATS_RETENTION_DAYS (default 30). */
  days: z._default(wholeNumber(1, 366), 7),
  format: z._default(z.enum(['json', 'csv']), 'json'),
})

type Row = Record<string, string | number>

const FIGURES = [
  'requests',
  'successes',
  'rateLimited',
  'errors',
  'inputTokens',
  'outputTokens',
  'cachedTokens',
] as const

const COLUMNS = {
  client: ['day', 'clientId', 'client', 'requests', 'inputTokens', 'outputTokens', 'cachedTokens', 'tokens'],
  key: ['day', 'provider', 'keyId', 'model', ...FIGURES],
  model: ['day', 'provider', 'model', ...FIGURES],
} as const

/**
 * `GET /admin/api/usage?by=client|key|model&days=7&format=json|csv`: requests and tokens per UTC day,
 * for a spreadsheet or a bill. Pool keys are named by id (the keys listing masks them), never by key.
 */
export async function exportUsage(request: Request, env: Env): Promise<Response> {
  const q = parseQuery(new URL(request.url), UsageQuery)
  const nowMs = Date.now()
  const firstDayMs = nowMs - (q.days - 1) * 86_400_000
  const rows = q.by === 'client' ? await clientRows(env, firstDayMs) : await poolRows(env, firstDayMs, q.by)
  const columns = COLUMNS[q.by]
  if (q.format === 'json') return Response.json({ by: q.by, days: q.days, rows })
  const lines = [columns.join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c] ?? '')).join(','))]
  return new Response(`${lines.join('\r\n')}\r\n`, {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="keyrelay-usage-by-${q.by}.csv"`,
    },
  })
}

async function clientRows(env: Env, firstDayMs: number): Promise<Row[]> {
  const [totals, clients] = await Promise.all([
    dailyClientTotals(env.DB, dayPeriod(firstDayMs)),
    liveClients(env.DB),
  ])
  const names = new Map(clients.map((c) => [c.id, c.name]))
  return totals.map((t) => ({
    day: t.period.slice(2),
    clientId: t.clientId,
    client: names.get(t.clientId) ?? `(deleted client #${t.clientId})`,
    requests: t.requests,
    inputTokens: t.input,
    outputTokens: t.output,
    cachedTokens: t.cached,
    tokens: tokensOf(t),
  }))
}

/** Hourly usage folded into UTC days, per key and model or per provider and model. */
async function poolRows(env: Env, firstDayMs: number, by: 'key' | 'model'): Promise<Row[]> {
  const since = Date.parse(`${dayPeriod(firstDayMs).slice(2)}T00:00:00Z`) / 1000
  const hourly = await usageSince(env.DB, { since })
  const days = new Map<string, Row>()
  for (const r of hourly) {
    const day = new Date(r.hour * 1000).toISOString().slice(0, 10)
    const id = by === 'key' ? `${day}|${r.keyId}|${r.model}` : `${day}|${r.provider}|${r.model}`
    let row = days.get(id)
    if (!row) {
      row =
        by === 'key'
          ? { day, provider: r.provider, keyId: r.keyId, model: r.model }
          : { day, provider: r.provider, model: r.model }
      for (const f of FIGURES) row[f] = 0
      days.set(id, row)
    }
    for (const f of FIGURES) (row[f] as number) += r[f]
  }
  // Oldest day first; within a day, by provider.
  return [...days.values()].sort(
    (a, b) =>
      String(a.day).localeCompare(String(b.day)) || String(a.provider).localeCompare(String(b.provider)),
  )
}

/**
 * A CSV cell: quoted when it holds a comma, quote or line break, and never read as a formula by a
 * spreadsheet (client names are the operator's text, model names a caller's).
 */
function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value)
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}
