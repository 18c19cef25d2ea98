import { all, batch } from './meter'
import { NEXT_SEQ } from './pool.repo'
import { CHECK_ROW, type CheckRow } from './rows'
import type { LiveStatus } from './statuses'

export async function keysByIds(d1: D1Database, ids: number[]): Promise<CheckRow[]> {
  if (ids.length === 0) return []
  const r = await all<CheckRow>(
    d1
      .prepare(
        `SELECT ${CHECK_ROW.sql} FROM keys WHERE status != 'deleted' AND id IN (SELECT value FROM json_each(?1)) ORDER BY id`,
      )
      .bind(JSON.stringify(ids)),
  )
  return r.results
}

export interface CheckFilter {
  provider: string
  status?: LiveStatus | undefined
  afterId: number
}

/** One page of a provider's keys in id order, and how many more match after it. */
export async function keysPage(
  d1: D1Database,
  filter: CheckFilter,
  limit: number,
): Promise<{ rows: CheckRow[]; remaining: number }> {
  const where = `provider = ?1 AND status != 'deleted' AND (?2 IS NULL OR status = ?2) AND id > ?3`
  const [page, rest] = await batch<Record<string, unknown>>(d1, [
    d1
      .prepare(`SELECT ${CHECK_ROW.sql} FROM keys WHERE ${where} ORDER BY id LIMIT ?4`)
      .bind(filter.provider, filter.status ?? null, filter.afterId, limit),
    d1
      .prepare(`SELECT count(*) AS n FROM keys WHERE ${where}`)
      .bind(filter.provider, filter.status ?? null, filter.afterId),
  ])
  const rows = (page?.results ?? []) as unknown as CheckRow[]
  return { rows, remaining: Math.max(0, Number(rest?.results[0]?.n ?? 0) - rows.length) }
}

/** Blocked keys checked longest ago first (never-checked first), through the partial index. */
export async function blockedToRecheck(d1: D1Database, limit: number): Promise<CheckRow[]> {
  const r = await all<CheckRow>(
    d1
      .prepare(`SELECT ${CHECK_ROW.sql} FROM keys WHERE status = 'blocked' ORDER BY checked_at LIMIT ?1`)
      .bind(limit),
  )
  return r.results
}

export async function markChecked(d1: D1Database, ids: number[], at: number): Promise<void> {
  if (ids.length === 0) return
  await all(
    d1
      .prepare(
        `UPDATE keys SET checked_at = ?1, seq = ${NEXT_SEQ} WHERE id IN (SELECT value FROM json_each(?2))`,
      )
      .bind(at, JSON.stringify(ids)),
  )
}

/**
 * Drops expired entries from every key whose soonest cooldown has passed, and recomputes that soonest
 * expiry. Reads only such rows (the partial index on cooldown_next), in one statement.
 */
export async function sweepExpiredCooldowns(d1: D1Database, now: number): Promise<number> {
  const r = await all(
    d1
      .prepare(
        `UPDATE keys SET
           cooldowns = (SELECT coalesce(json_group_object(j.key, j.value), '{}') FROM json_each(keys.cooldowns) AS j WHERE j.value > ?1),
           cooldown_next = (SELECT min(j.value) FROM json_each(keys.cooldowns) AS j WHERE j.value > ?1),
           cooldown_reasons = (SELECT coalesce(json_group_object(r.key, r.value), '{}') FROM json_each(keys.cooldown_reasons) AS r
             WHERE EXISTS (SELECT 1 FROM json_each(keys.cooldowns) AS j WHERE j.key = r.key AND j.value > ?1)),
           seq = ${NEXT_SEQ}
         WHERE cooldown_next IS NOT NULL AND cooldown_next <= ?1`,
      )
      .bind(now),
  )
  return r.meta.changes ?? 0
}

/**
 * Removes tombstones older than `before`. Every isolate has long since seen them: a pool view
 * reloads in full every 6 hours and so does the AdminView. The provider's highest-seq row stays,
 * whatever it is, because the next seq is computed from it: were it gone, new writes could get a
 * seq an isolate has already passed, and be missed.
 */
export async function purgeTombstones(d1: D1Database, before: number): Promise<number> {
  const r = await all(
    d1
      .prepare(
        `DELETE FROM keys WHERE status = 'deleted' AND deleted_at < ?1
           AND seq < (SELECT max(k2.seq) FROM keys AS k2 WHERE k2.provider = keys.provider)`,
      )
      .bind(before),
  )
  return r.meta.changes ?? 0
}
