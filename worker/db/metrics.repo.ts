import { DURATION_COLUMNS } from './durations'
import { all, batch } from './meter'
import { REQUEST_FIELDS } from './request-entry'

/**
 * Running totals for Prometheus (schema.ts `metric_totals`). Every counter a scrape shows is the
 * folded totals plus the batch rows written since the `metrics_folded` mark, so it only ever grows:
 * pruning and compaction touch only rows at or below the mark (stats.repo.ts), which the totals
 * already hold.
 *
 * Batch rows are summed here, in JS, not with json_each in SQL: D1 counts every element json_each
 * yields as a row read, so a scrape summing 40 flushes of 50 entries in SQL read 4,600 rows; reading
 * the same rows whole costs 40.
 */

/** `meta` key: the highest usage_batches id whose counts are in metric_totals. */
export const METRICS_FOLDED = 'metrics_folded'

/** The mark as SQL: 0 before the first fold. */
export const MARK = `coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '${METRICS_FOLDED}'), 0)`

/** metric_totals column → its index in a usage entry (stats.repo.ts UsageEntry: [keyId, provider, model, …]). */
const ATTEMPT_COLUMNS: [string, number][] = [
  ['attempts', 3],
  ['successes', 4],
  ['rate_limited', 5],
  ['errors', 6],
  ['input_tokens', 9],
  ['output_tokens', 10],
  ['cached_tokens', 11],
]

/** metric_totals column → its index in a request entry (request-entry.ts: [provider, model, …]). */
const REQUEST_COLUMNS: [string, number][] = [
  ['requests_ok', REQUEST_FIELDS.ok],
  ['requests_client_error', REQUEST_FIELDS.clientErrors],
  ['requests_limited', REQUEST_FIELDS.limited],
  ['requests_failed', REQUEST_FIELDS.failed],
  ['blocks', REQUEST_FIELDS.blocks],
  ['duration_ms_sum', REQUEST_FIELDS.msSum],
  ...DURATION_COLUMNS.map((c, i): [string, number] => [c, REQUEST_FIELDS.firstSlot + i]),
]

export const METRIC_COLUMNS = [...ATTEMPT_COLUMNS, ...REQUEST_COLUMNS].map(([c]) => c)

export interface MetricRow {
  provider: string
  model: string
  /** 0: the model over every key; otherwise one key's row (model ''). */
  key_id: number
  [column: string]: string | number
}

/** Sums rows into one MetricRow per provider, model and key. */
class Sums {
  readonly rows = new Map<string, MetricRow>()

  add(provider: string, model: string, keyId: number, entry: unknown[], columns: [string, number][]): void {
    const row = this.row(provider, model, keyId)
    for (const [c, i] of columns) row[c] = Number(row[c] ?? 0) + (Number(entry[i]) || 0)
  }

  addRow(from: MetricRow): void {
    const row = this.row(from.provider, from.model, Number(from.key_id))
    for (const c of METRIC_COLUMNS) row[c] = Number(row[c] ?? 0) + Number(from[c] ?? 0)
  }

  private row(provider: string, model: string, keyId: number): MetricRow {
    const id = `${provider}|${model}|${keyId}`
    let row = this.rows.get(id)
    if (!row) this.rows.set(id, (row = { provider, model, key_id: keyId }))
    return row
  }
}

interface BatchRow {
  id: number
  entries: string
  requests: string | null
}

/** Adds batch rows' counts: per provider and model, and per key when asked. */
function addBatchRows(sums: Sums, rows: BatchRow[], perKey: boolean): void {
  for (const row of rows) {
    for (const e of JSON.parse(row.entries) as unknown[][]) {
      const [keyId, provider, model] = e as [number, string, string]
      sums.add(provider, model, 0, e, ATTEMPT_COLUMNS)
      if (perKey) sums.add(provider, '', keyId, e, ATTEMPT_COLUMNS)
    }
    if (!row.requests) continue
    for (const r of JSON.parse(row.requests) as unknown[][]) {
      const [provider, model] = r as [string, string]
      sums.add(provider, model, 0, r, REQUEST_COLUMNS)
    }
  }
}

const rowsReadOf = (results: D1Result[]) => results.reduce((sum, r) => sum + (r.meta?.rows_read ?? 0), 0)

/**
 * Folds every batch row written since the mark into the totals. The upserts and the mark's move run
 * in one transaction, each on condition that the mark is still where this run read it, so two runs
 * at once never count a row twice (the later one changes nothing). Costs the rows folded read once
 * each, and one row written per provider and model that had traffic (per key: METRICS_PER_KEY).
 */
export async function foldMetrics(d1: D1Database, perKey: boolean): Promise<number> {
  let mark = await foldedThrough(d1)
  // A cron that had not run for a while leaves many rows: a run folds them a bounded slice at a time.
  for (let i = 0; i < FOLD_SLICES; i++) {
    const folded = await foldSlice(d1, perKey)
    if (folded.mark === mark || !folded.more) return folded.mark
    mark = folded.mark
  }
  return mark
}

/** Batch rows one fold reads at most (a row holds up to 1,000 entries). */
const FOLD_ROWS = 2000
const FOLD_SLICES = 5

async function foldSlice(d1: D1Database, perKey: boolean): Promise<{ mark: number; more: boolean }> {
  const [markRead, rowsRead] = await batch<Record<string, unknown>>(d1, [
    d1.prepare(`SELECT ${MARK} AS mark`),
    d1.prepare(
      `SELECT id, entries, requests FROM usage_batches WHERE id > ${MARK} ORDER BY id LIMIT ${FOLD_ROWS}`,
    ),
  ])
  const mark = Number(markRead?.results[0]?.mark ?? 0)
  const rows = (rowsRead?.results ?? []) as unknown as BatchRow[]
  const top = rows.at(-1)?.id
  if (top === undefined) return { mark, more: false }
  const sums = new Sums()
  addBatchRows(sums, rows, perKey)
  const names = METRIC_COLUMNS.join(', ')
  const upsert = `INSERT INTO metric_totals (provider, model, key_id, ${names})
    SELECT ?1, ?2, ?3, ${METRIC_COLUMNS.map((_, i) => `?${i + 5}`).join(', ')} WHERE ${MARK} = ?4
    ON CONFLICT (provider, model, key_id) DO UPDATE SET
    ${METRIC_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')}`
  const statements = [...sums.rows.values()].map((r) =>
    d1
      .prepare(upsert)
      .bind(r.provider, r.model, r.key_id, mark, ...METRIC_COLUMNS.map((c) => Number(r[c] ?? 0))),
  )
  statements.push(
    d1
      .prepare(
        `INSERT INTO meta (key, value) SELECT '${METRICS_FOLDED}', ?1 WHERE ${MARK} = ?2
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      )
      .bind(String(top), mark),
  )
  await batch(d1, statements)
  return { mark: await foldedThrough(d1), more: rows.length === FOLD_ROWS }
}

/** The mark: batch rows at or below it are in the totals (0 before the first fold). */
export async function foldedThrough(d1: D1Database): Promise<number> {
  const r = await all<{ mark: number }>(d1.prepare(`SELECT ${MARK} AS mark`))
  return r.results[0]?.mark ?? 0
}

/**
 * Every total as of now: the folded rows plus the batch rows since the mark, read in one batch (one
 * snapshot). Costs the totals' rows (one per provider and model; per key when asked) and one per
 * batch row written since the last cron run.
 */
export async function readMetrics(
  d1: D1Database,
  perKey: boolean,
): Promise<{ rows: MetricRow[]; rowsRead: number }> {
  const results = await batch<Record<string, unknown>>(d1, [
    d1.prepare(`SELECT * FROM metric_totals ${perKey ? '' : 'WHERE key_id = 0'}`),
    d1.prepare(`SELECT id, entries, requests FROM usage_batches WHERE id > ${MARK}`),
  ])
  const sums = new Sums()
  for (const row of (results[0]?.results ?? []) as MetricRow[]) sums.addRow(row)
  addBatchRows(sums, (results[1]?.results ?? []) as unknown as BatchRow[], perKey)
  return { rows: [...sums.rows.values()], rowsRead: rowsReadOf(results) }
}

/** Keys per provider (`total` counts blocked ones) and, per model, the active keys cooling for it. */
export interface PoolStates {
  providers: { provider: string; total: number; blocked: number }[]
  cooling: { provider: string; model: string; keys: number }[]
  rowsRead: number
}

/**
 * The pool's state from D1 (every isolate's scrape agrees): totals from key_pages (a row per 1,000
 * keys) and the keys not in their default state through the keys_provider_dynamic partial index,
 * as the cron's samples read them. `*` is a cooldown for every model (an account out of credit).
 */
export async function poolStates(d1: D1Database, now: number): Promise<PoolStates> {
  const dynamic = `FROM keys WHERE (status = 'blocked' OR cooldown_next IS NOT NULL)`
  const results = await batch<Record<string, string | number>>(d1, [
    d1.prepare(
      `SELECT p.provider AS provider, p.total AS total, coalesce(d.blocked, 0) AS blocked
       FROM (SELECT provider, sum(json_array_length(keys)) AS total FROM key_pages GROUP BY provider) AS p
       LEFT JOIN (SELECT provider, sum(status = 'blocked') AS blocked ${dynamic} GROUP BY provider) AS d
         ON d.provider = p.provider`,
    ),
    d1
      .prepare(
        `SELECT keys.provider AS provider, j.key AS model, count(*) AS keys
         ${dynamic.replace('FROM keys', 'FROM keys, json_each(keys.cooldowns) AS j')}
           AND keys.status = 'active' AND j.value > ?1
         GROUP BY 1, 2`,
      )
      .bind(now),
  ])
  const [providers, cooling] = results
  return {
    providers: (providers?.results ?? []) as PoolStates['providers'],
    cooling: (cooling?.results ?? []) as PoolStates['cooling'],
    rowsRead: rowsReadOf(results),
  }
}
