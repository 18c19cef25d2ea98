import { all, batch } from './meter'

/** An alias row as the views and the admin API read it. */
export interface RouteRow {
  name: string
  /** JSON array of `<provider>/<model>`. */
  targets: string
  status: 'active' | 'deleted'
  seq: number
  updatedAt: number
}

const COLUMNS = 'name, targets, status, seq, updated_at AS updatedAt'
/** Every write sets the row's seq one past the table's maximum (through `model_routes_seq`). */
const NEXT_SEQ = '(SELECT coalesce(max(r2.seq), 0) + 1 FROM model_routes AS r2)'

/** Creates or replaces an alias (a deleted one comes back); answers the row. */
export async function putRoute(
  d1: D1Database,
  name: string,
  targets: string[],
  now: number,
): Promise<RouteRow> {
  const r = await all<RouteRow>(
    d1
      .prepare(
        `INSERT INTO model_routes (name, targets, status, updated_at, seq) VALUES (?1, ?2, 'active', ?3, ${NEXT_SEQ})
         ON CONFLICT (name) DO UPDATE SET targets = excluded.targets, status = 'active',
           updated_at = excluded.updated_at, seq = excluded.seq
         RETURNING ${COLUMNS}`,
      )
      .bind(name, JSON.stringify(targets), now),
  )
  return r.results[0] as RouteRow
}

/** Whether an active alias of that name exists. */
export async function routeExists(d1: D1Database, name: string): Promise<boolean> {
  const r = await all(
    d1.prepare("SELECT 1 FROM model_routes WHERE name = ?1 AND status = 'active'").bind(name),
  )
  return r.results.length > 0
}

/** Makes the alias a tombstone, so every isolate sees it go; false when there was none. */
export async function deleteRoute(d1: D1Database, name: string, now: number): Promise<boolean> {
  const r = await all(
    d1
      .prepare(
        `UPDATE model_routes SET status = 'deleted', updated_at = ?2, seq = ${NEXT_SEQ}
         WHERE name = ?1 AND status = 'active' RETURNING name`,
      )
      .bind(name, now),
  )
  return r.results.length > 0
}

export async function liveRoutes(d1: D1Database): Promise<RouteRow[]> {
  const r = await all<RouteRow>(
    d1.prepare(`SELECT ${COLUMNS} FROM model_routes WHERE status = 'active' ORDER BY name`),
  )
  return r.results
}

/** An isolate's first look: every live alias and the seq its view starts from, in one batch. */
export async function loadRoutes(d1: D1Database): Promise<{ rows: RouteRow[]; maxSeq: number }> {
  const [rows, max] = await batch<Record<string, unknown>>(d1, [
    d1.prepare(`SELECT ${COLUMNS} FROM model_routes WHERE status = 'active'`),
    d1.prepare('SELECT max(seq) AS maxSeq FROM model_routes'),
  ])
  return {
    rows: (rows?.results ?? []) as unknown as RouteRow[],
    maxSeq: Number(max?.results[0]?.maxSeq ?? 0),
  }
}

/** Rows changed since `seq`, tombstones included. */
export async function routesChangedSince(d1: D1Database, seq: number): Promise<RouteRow[]> {
  const r = await all<RouteRow>(d1.prepare(`SELECT ${COLUMNS} FROM model_routes WHERE seq > ?1`).bind(seq))
  return r.results
}
