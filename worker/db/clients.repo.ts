import type { Totals } from '../clients/quotas'
import { all, batch } from './meter'
import type { ClientStatus } from './statuses'

/** A client key's row as every reader sees it (the key itself is never stored). */
export interface ClientRow {
  id: number
  name: string
  keyHash: string | null
  keyHint: string
  allow: string | null
  expiresAt: number | null
  storedObjects: number
  status: ClientStatus
  /** JSON Quotas. */
  quotas: string
  seq: number
  createdAt: number
}

const COLUMNS = `id, name, key_hash AS keyHash, key_hint AS keyHint, allow, expires_at AS expiresAt,
  stored_objects AS storedObjects, status, quotas, seq, created_at AS createdAt`

/** Every write sets the row's seq one past the table's maximum (through `clients_seq`, one row read). */
const NEXT_SEQ = '(SELECT coalesce(max(c2.seq), 0) + 1 FROM clients AS c2)'

export interface NewClient {
  name: string
  keyHash: string
  keyHint: string
  allow: string | null
  expiresAt: number | null
  storedObjects: boolean
  quotas: string
  createdAt: number
}

export async function insertClient(d1: D1Database, c: NewClient): Promise<ClientRow> {
  const r = await all<ClientRow>(
    d1
      .prepare(
        `INSERT INTO clients (name, key_hash, key_hint, allow, expires_at, stored_objects, quotas, created_at, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ${NEXT_SEQ}) RETURNING ${COLUMNS}`,
      )
      .bind(
        c.name,
        c.keyHash,
        c.keyHint,
        c.allow,
        c.expiresAt,
        c.storedObjects ? 1 : 0,
        c.quotas,
        c.createdAt,
      ),
  )
  return r.results[0] as ClientRow
}

export interface ClientChange {
  name?: string
  allow?: string | null
  expiresAt?: number | null
  storedObjects?: boolean
  status?: 'active' | 'disabled'
  quotas?: string
}

const CHANGE_COLUMNS: Record<keyof ClientChange, string> = {
  name: 'name',
  allow: 'allow',
  expiresAt: 'expires_at',
  storedObjects: 'stored_objects',
  status: 'status',
  quotas: 'quotas',
}

/** Applies the fields given, in one statement; undefined when no live client has that id. */
export async function updateClient(
  d1: D1Database,
  id: number,
  change: ClientChange,
): Promise<ClientRow | undefined> {
  const sets: string[] = []
  const values: unknown[] = []
  for (const [field, column] of Object.entries(CHANGE_COLUMNS) as [keyof ClientChange, string][]) {
    const value = change[field]
    if (value === undefined) continue
    values.push(typeof value === 'boolean' ? (value ? 1 : 0) : value)
    sets.push(`${column} = ?${values.length}`)
  }
  values.push(id)
  const r = await all<ClientRow>(
    d1
      .prepare(
        `UPDATE clients SET ${[...sets, `seq = ${NEXT_SEQ}`].join(', ')}
         WHERE id = ?${values.length} AND status != 'deleted' RETURNING ${COLUMNS}`,
      )
      .bind(...values),
  )
  return r.results[0]
}

/** Makes the client a tombstone (hash wiped, so the key can never match again); false if none. */
export async function deleteClient(d1: D1Database, id: number, nowSeconds: number): Promise<boolean> {
  const r = await all(
    d1
      .prepare(
        `UPDATE clients SET status = 'deleted', key_hash = NULL, deleted_at = ?2, seq = ${NEXT_SEQ}
         WHERE id = ?1 AND status != 'deleted' RETURNING id`,
      )
      .bind(id, nowSeconds),
  )
  return r.results.length > 0
}

export async function liveClients(d1: D1Database): Promise<ClientRow[]> {
  const r = await all<ClientRow>(
    d1.prepare(`SELECT ${COLUMNS} FROM clients WHERE status != 'deleted' ORDER BY id`),
  )
  return r.results
}

/** An isolate's first look: every live client, and the seq its view starts from, in one batch. */
export async function loadClients(d1: D1Database): Promise<{ rows: ClientRow[]; maxSeq: number }> {
  const [rows, max] = await batch<Record<string, unknown>>(d1, [
    d1.prepare(`SELECT ${COLUMNS} FROM clients WHERE status != 'deleted'`),
    d1.prepare('SELECT max(seq) AS maxSeq FROM clients'),
  ])
  return {
    rows: (rows?.results ?? []) as unknown as ClientRow[],
    maxSeq: Number(max?.results[0]?.maxSeq ?? 0),
  }
}

/** Rows changed since `seq`, tombstones included; reads only those rows. */
export async function clientsChangedSince(d1: D1Database, seq: number): Promise<ClientRow[]> {
  const r = await all<ClientRow>(d1.prepare(`SELECT ${COLUMNS} FROM clients WHERE seq > ?1`).bind(seq))
  return r.results
}

export async function purgeClientTombstones(d1: D1Database, before: number): Promise<number> {
  const r = await all(
    d1.prepare("DELETE FROM clients WHERE status = 'deleted' AND deleted_at < ?1 RETURNING id").bind(before),
  )
  return r.results.length
}

/** One client's totals in one period. */
export interface PeriodTotals extends Totals {
  clientId: number
  period: string
}

const TOTALS = `client_id AS clientId, period, requests, input_tokens AS input, output_tokens AS output,
  cached_tokens AS cached`

/**
 * Adds each delta to its (client, period) row and returns the rows' new totals, which include what
 * every other isolate has added: one statement per row, one transaction for all.
 */
export async function addClientUsage(d1: D1Database, deltas: PeriodTotals[]): Promise<PeriodTotals[]> {
  if (deltas.length === 0) return []
  const results = await batch<PeriodTotals>(
    d1,
    deltas.map((d) =>
      d1
        .prepare(
          `INSERT INTO client_usage (client_id, period, requests, input_tokens, output_tokens, cached_tokens)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6)
           ON CONFLICT (client_id, period) DO UPDATE SET requests = requests + excluded.requests,
             input_tokens = input_tokens + excluded.input_tokens,
             output_tokens = output_tokens + excluded.output_tokens,
             cached_tokens = cached_tokens + excluded.cached_tokens
           RETURNING ${TOTALS}`,
        )
        .bind(d.clientId, d.period, d.requests, d.input, d.output, d.cached),
    ),
  )
  return results.flatMap((r) => r.results)
}

/** The totals of `clientIds` in `periods` (rows that exist; a missing row is zero). */
export async function clientTotals(
  d1: D1Database,
  clientIds: number[],
  periods: string[],
): Promise<PeriodTotals[]> {
  if (clientIds.length === 0 || periods.length === 0) return []
  const ids = clientIds.map((_, i) => `?${i + 1}`).join(', ')
  const ps = periods.map((_, i) => `?${clientIds.length + i + 1}`).join(', ')
  const r = await all<PeriodTotals>(
    d1
      .prepare(`SELECT ${TOTALS} FROM client_usage WHERE client_id IN (${ids}) AND period IN (${ps})`)
      .bind(...clientIds, ...periods),
  )
  return r.results
}

/** Every client's totals in `periods` (the Clients page: today and this month). */
export async function allClientTotals(d1: D1Database, periods: string[]): Promise<PeriodTotals[]> {
  const ps = periods.map((_, i) => `?${i + 1}`).join(', ')
  const r = await all<PeriodTotals>(
    d1.prepare(`SELECT ${TOTALS} FROM client_usage WHERE period IN (${ps})`).bind(...periods),
  )
  return r.results
}

/** Daily totals from `fromDay` (`d:YYYY-MM-DD`) on, every client's (the usage export). */
export async function dailyClientTotals(d1: D1Database, fromDay: string): Promise<PeriodTotals[]> {
  const r = await all<PeriodTotals>(
    d1
      .prepare(`SELECT ${TOTALS} FROM client_usage WHERE period >= ?1 AND period < 'e' ORDER BY period`)
      .bind(fromDay),
  )
  return r.results
}

/** Drops day rows before `beforeDay` and month rows before `beforeMonth` (the cron). */
export async function pruneClientUsage(
  d1: D1Database,
  beforeDay: string,
  beforeMonth: string,
): Promise<number> {
  const r = await all(
    d1
      .prepare(
        `DELETE FROM client_usage WHERE (period LIKE 'd:%' AND period < ?1) OR (period LIKE 'm:%' AND period < ?2)
         RETURNING client_id`,
      )
      .bind(beforeDay, beforeMonth),
  )
  return r.results.length
}
