import type { Counts } from './counts'
import { all, batch } from './meter'
import { emptyEntry, type RequestEntry } from './request-entry'

/** Increments for one (key, model, hour), as the stats buffer gathers them. */
export interface StatsDelta extends Counts {
  keyId: number
  provider: string
  model: string
  hour: number
  lastUsed: number
  lastErrorAt: number | null
  lastErrorStatus: number | null
  lastErrorReason: string | null
}

/**
 * One entry of a usage batch: [keyId, provider, model, requests, successes, rateLimited, errors,
 * lastUsed, lastError, inputTokens, outputTokens, cachedTokens]. lastError is
 * `<12-digit unix time>|<status>|<reason>` so that max() over the text picks the newest error in SQL.
 * Entries written before tokens were counted end at lastError; SQL reads their tokens as 0.
 */
export type UsageEntry = [
  number,
  string,
  string,
  number,
  number,
  number,
  number,
  number,
  string | null,
  number,
  number,
  number,
]

/** Entries per batch row: keeps a row far below D1's 2 MB row limit even for huge pools. */
const ENTRIES_PER_ROW = 1000

function toEntry(d: StatsDelta): UsageEntry {
  const lastError =
    d.lastErrorAt === null
      ? null
      : `${String(d.lastErrorAt).padStart(12, '0')}|${d.lastErrorStatus ?? 0}|${d.lastErrorReason ?? ''}`
  return [
    d.keyId,
    d.provider,
    d.model,
    d.requests,
    d.successes,
    d.rateLimited,
    d.errors,
    d.lastUsed,
    lastError,
    d.inputTokens,
    d.outputTokens,
    d.cachedTokens,
  ]
}

/**
 * An hour's rows: its entries 1,000 to a row, the requests (few: one per provider and model) in the
 * first. `ids`, when given, are reused in order (compaction keeps folded rows below the metrics mark).
 */
function rowsFor(
  d1: D1Database,
  hour: number,
  entries: UsageEntry[],
  requests: RequestEntry[],
  ids: number[] = [],
  totals: string | null = null,
): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = []
  const insert = (i: number, chunk: UsageEntry[], reqs: string | null) => {
    const id = ids[statements.length] ?? null
    const first = statements.length === 0
    statements.push(
      d1
        .prepare(
          'INSERT INTO usage_batches (id, hour, entries, requests, totals, keys) VALUES (?1, ?2, ?3, ?4, ?5, ?6)',
        )
        .bind(
          id,
          hour,
          JSON.stringify(chunk),
          i === 0 ? reqs : null,
          totals === null ? null : first ? totals : '',
          JSON.stringify(keyIndex(chunk)),
        ),
    )
  }
  const reqs = requests.length > 0 ? JSON.stringify(requests) : null
  if (entries.length === 0 && reqs !== null) insert(0, [], reqs)
  for (let i = 0; i < entries.length; i += ENTRIES_PER_ROW) {
    insert(i, entries.slice(i, i + ENTRIES_PER_ROW), reqs)
  }
  return statements
}

/** A row's key index (schema.ts `keys`): key id → the indexes of its entries in the row. */
export function keyIndex(entries: UsageEntry[]): Record<number, number[]> {
  const index: Record<number, number[]> = {}
  entries.forEach((e, i) => (index[e[0]] ??= []).push(i))
  return index
}

/** Appends a flush: one row per hour it covers (per 1,000 entries), all in one transaction. */
export async function appendUsage(
  d1: D1Database,
  deltas: StatsDelta[],
  requests: { hour: number; entry: RequestEntry }[] = [],
): Promise<void> {
  const byHour = new Map<number, { entries: UsageEntry[]; requests: RequestEntry[] }>()
  const hourOf = (hour: number) => {
    let h = byHour.get(hour)
    if (!h) byHour.set(hour, (h = { entries: [], requests: [] }))
    return h
  }
  for (const d of deltas) hourOf(d.hour).entries.push(toEntry(d))
  for (const r of requests) hourOf(r.hour).requests.push(r.entry)
  const statements = [...byHour].flatMap(([hour, h]) => rowsFor(d1, hour, h.entries, h.requests))
  if (statements.length > 0) await batch(d1, statements)
}

/** Usage of one (hour, key, model), summed over every batch row of that hour. */
export interface StatsRow extends Counts {
  keyId: number
  provider: string
  model: string
  hour: number
  lastUsed: number | null
  /** `<at>|<status>|<reason>`, see UsageEntry; parseLastError reads it. */
  lastError: string | null
}

/** The token sums of a group of entries; an entry from before tokens were counted adds 0. */
const TOKEN_SUMS = `coalesce(sum(json_extract(j.value, '$[9]')), 0) AS inputTokens,
  coalesce(sum(json_extract(j.value, '$[10]')), 0) AS outputTokens,
  coalesce(sum(json_extract(j.value, '$[11]')), 0) AS cachedTokens`

export const AGGREGATE = `SELECT b.hour AS hour,
  json_extract(j.value, '$[0]') AS keyId, json_extract(j.value, '$[1]') AS provider,
  json_extract(j.value, '$[2]') AS model,
  sum(json_extract(j.value, '$[3]')) AS requests, sum(json_extract(j.value, '$[4]')) AS successes,
  sum(json_extract(j.value, '$[5]')) AS rateLimited, sum(json_extract(j.value, '$[6]')) AS errors,
  max(json_extract(j.value, '$[7]')) AS lastUsed, max(json_extract(j.value, '$[8]')) AS lastError,
  ${TOKEN_SUMS}
FROM usage_batches AS b, json_each(b.entries) AS j`

/** Usage per (hour, key, model) from `since` on (an index range on hour), optionally narrowed. */
export async function usageSince(
  d1: D1Database,
  filter: {
    since: number
    until?: number
    provider?: string | undefined
    keyId?: number | undefined
    /** Only batch rows with an id up to this (compaction: rows the metrics already hold). */
    maxId?: number
  },
): Promise<StatsRow[]> {
  const r = await all<StatsRow>(
    d1
      .prepare(
        `${AGGREGATE}
         WHERE b.hour >= ?1 AND (?2 IS NULL OR b.hour < ?2)
           AND (?3 IS NULL OR json_extract(j.value, '$[1]') = ?3)
           AND (?4 IS NULL OR json_extract(j.value, '$[0]') = ?4)
           AND (?5 IS NULL OR b.id <= ?5)
         GROUP BY b.hour, keyId, model`,
      )
      .bind(
        filter.since,
        filter.until ?? null,
        filter.provider ?? null,
        filter.keyId ?? null,
        filter.maxId ?? null,
      ),
  )
  return r.results
}

/** Usage per (hour, provider) in [since, until): the overview's 7-day series, one row per hour and provider. */
export async function providerUsageSince(
  d1: D1Database,
  since: number,
  until: number | null = null,
  /** Only rows no compaction covered with its totals (usage-tail.repo.ts hourTotals). */
  uncovered = false,
): Promise<({ provider: string; hour: number } & Counts)[]> {
  const r = await all<{ provider: string; hour: number } & Counts>(
    d1
      .prepare(
        `SELECT b.hour AS hour, json_extract(j.value, '$[1]') AS provider,
           sum(json_extract(j.value, '$[3]')) AS requests, sum(json_extract(j.value, '$[4]')) AS successes,
           sum(json_extract(j.value, '$[5]')) AS rateLimited, sum(json_extract(j.value, '$[6]')) AS errors,
           ${TOKEN_SUMS}
         FROM usage_batches AS b, json_each(b.entries) AS j
         WHERE b.hour >= ?1 AND (?2 IS NULL OR b.hour < ?2) AND (?3 = 0 OR b.totals IS NULL)
         GROUP BY b.hour, provider`,
      )
      .bind(since, until, uncovered ? 1 : 0),
  )
  return r.results
}

export function parseLastError(text: string | null): { at: number; status: number; reason: string } | null {
  if (!text) return null
  const [at, status, ...reason] = text.split('|')
  return { at: Number(at), status: Number(status), reason: reason.join('|') }
}

/**
 * Folds every finished hour that has several batch rows into as few rows as its entries need. Only
 * rows at or below the metrics mark (metrics.repo.ts) take part, and the new rows reuse their ids:
 * a row the metrics have not counted yet stays as it is, and a folded one never reappears above the
 * mark to be counted again. The delete and the inserts run in one transaction, so a failure leaves
 * the hour as it was. Summed in SQL: D1 counts each json_each element as a row read (an hour of one
 * busy isolate's flushes, about 3,000), but summing in JavaScript would spend the cron's CPU, which
 * the free plan caps at 10 ms a run, on an hour of every isolate's flushes at once.
 */
export async function compactUsage(d1: D1Database, beforeHour: number, mark: number): Promise<number> {
  const hours = await all<{ hour: number; ids: string }>(
    d1
      .prepare(
        `SELECT hour, group_concat(id) AS ids FROM usage_batches WHERE hour >= ?1 AND hour < ?2 AND id <= ?3
         GROUP BY hour HAVING count(*) > 1`,
      )
      .bind(beforeHour - COMPACT_HOURS * 3600, beforeHour, mark),
  )
  let folded = 0
  for (const { hour, ids: idList } of hours.results) {
    const ids = idList
      .split(',')
      .map(Number)
      .sort((a, b) => a - b)
    const maxId = ids[ids.length - 1] as number
    const rows = await usageSince(d1, { since: hour, until: hour + 1, maxId })
    const entries: UsageEntry[] = rows.map((r) => [
      r.keyId,
      r.provider,
      r.model,
      r.requests,
      r.successes,
      r.rateLimited,
      r.errors,
      r.lastUsed ?? 0,
      r.lastError,
      r.inputTokens,
      r.outputTokens,
      r.cachedTokens,
    ])
    // Folding that saves no row is not done: it would only move entries between the same ids, and
    // the dashboard's window (admin/usage-window.ts) relies on a fold removing at least one id.
    if (Math.max(1, Math.ceil(entries.length / ENTRIES_PER_ROW)) >= ids.length) continue
    const requests = await hourRequests(d1, hour, maxId)
    await batch(d1, [
      d1.prepare(`DELETE FROM usage_batches WHERE hour = ?1 AND id <= ?2`).bind(hour, maxId),
      ...rowsFor(d1, hour, entries, requests, ids, JSON.stringify(providerTotals(entries))),
    ])
    folded += ids.length
  }
  return folded
}

/** An hour's counts per provider (schema.ts `totals`): [requests, successes, rateLimited, errors, in, out, cached]. */
export type ProviderTotals = Record<string, number[]>

function providerTotals(entries: UsageEntry[]): ProviderTotals {
  const out: ProviderTotals = {}
  for (const e of entries) {
    const t = (out[e[1]] ??= [0, 0, 0, 0, 0, 0, 0])
    const counts = [e[3], e[4], e[5], e[6], e[9], e[10], e[11]]
    counts.forEach((n, i) => (t[i] = (t[i] as number) + (n ?? 0)))
  }
  return out
}

/**
 * Hours compaction looks back over: a flush lands within minutes of its hour (a failed one is carried
 * by the next), so an older hour has nothing new, and looking further would read every kept row on
 * every cron run.
 */
const COMPACT_HOURS = 48

/** An hour's request entries (rows up to `maxId`), summed per provider and model. */
async function hourRequests(d1: D1Database, hour: number, maxId: number): Promise<RequestEntry[]> {
  const width = emptyEntry('', '').length
  const columns = Array.from({ length: width - 2 }, (_, i) => `sum(json_extract(j.value, '$[${i + 2}]'))`)
  const r = await all<{ entry: string }>(
    d1
      .prepare(
        `SELECT json_array(json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), ${columns.join(', ')}) AS entry
       FROM usage_batches AS b, json_each(b.requests) AS j WHERE b.hour = ?1 AND b.id <= ?2
       GROUP BY json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]')`,
      )
      .bind(hour, maxId),
  )
  return r.results.map((row) => JSON.parse(row.entry) as RequestEntry)
}

/**
 * Deletes usage older than `before` (unix seconds), through the hour index: only rows at or below the
 * metrics mark, so that no count leaves before the metrics' totals hold it.
 */
export async function pruneUsage(d1: D1Database, before: number, mark: number): Promise<number> {
  const r = await all(d1.prepare('DELETE FROM usage_batches WHERE hour < ?1 AND id <= ?2').bind(before, mark))
  return r.meta.changes ?? 0
}
