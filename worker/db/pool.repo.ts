import { all, batch } from './meter'
import type { ProviderId } from '../providers/types'
import type { CooldownScope } from './cooldowns'
import { POOL_ROW, type PoolRow } from './rows'

/**
 * The request path's SQL. Each statement is written out so its D1 cost is visible here:
 * - a pool load reads the provider's rows once per isolate;
 * - a refresh reads only rows whose `seq` moved, through `keys_provider_seq`;
 * - a state change writes one row, and finds the next `seq` through the same index (one row read).
 */

/** Every write sets the row's seq one past the provider's maximum, so refreshes find it. */
export const NEXT_SEQ =
  '(SELECT coalesce(max(k2.seq), 0) + 1 FROM keys AS k2 WHERE k2.provider = keys.provider)'

/** Full load of one provider's pool, plus the highest seq seen (tombstones included). */
export async function loadProviderPool(
  d1: D1Database,
  provider: ProviderId,
): Promise<{ rows: PoolRow[]; maxSeq: number }> {
  // One batch, so the three reads see the same state: every key from its page (as active, no
  // cooldowns), then the few whose state differs, then the seq the view starts from.
  const [pages, dynamic, max] = await batch<Record<string, unknown>>(d1, [
    d1.prepare('SELECT keys FROM key_pages WHERE provider = ?1').bind(provider),
    d1
      .prepare(
        `SELECT ${POOL_ROW.sql} FROM keys WHERE provider = ?1 AND (status = 'blocked' OR cooldown_next IS NOT NULL)`,
      )
      .bind(provider),
    d1.prepare('SELECT max(seq) AS maxSeq FROM keys WHERE provider = ?1').bind(provider),
  ])
  const byId = new Map<number, PoolRow>()
  for (const page of pages?.results ?? []) {
    const entries = JSON.parse(String(page.keys)) as [number, string, number?, number?, (string | null)?][]
    for (const [id, key, weight = 1, tier = 0, keyGroup = null] of entries) {
      // seq 0: any row read from `keys` or returned by a write is newer and replaces it.
      byId.set(id, { id, provider, key, status: 'active', cooldowns: '{}', seq: 0, weight, tier, keyGroup })
    }
  }
  for (const row of (dynamic?.results ?? []) as unknown as PoolRow[]) byId.set(row.id, row)
  return { rows: [...byId.values()], maxSeq: Number(max?.results[0]?.maxSeq ?? 0) }
}

/** Rows of one provider changed since `seq`; reads only those rows. */
export async function changedSince(d1: D1Database, provider: ProviderId, seq: number): Promise<PoolRow[]> {
  const r = await all<PoolRow>(
    d1.prepare(`SELECT ${POOL_ROW.sql} FROM keys WHERE provider = ? AND seq > ?`).bind(provider, seq),
  )
  return r.results
}

/** Runs one single-row state change and returns the row as stored (undefined: no row matched). */
async function changeOne(statement: D1PreparedStatement): Promise<PoolRow | undefined> {
  return (await all<PoolRow>(statement)).results[0]
}

/** The scope's running cooldown (unix seconds), or NULL. */
const RUNNING = '(SELECT j.value FROM json_each(keys.cooldowns) AS j WHERE j.key = ?1)'

/**
 * Only a cooldown that outlasts the running one by more than this is written. In a storm several
 * isolates meet the same key within moments, each computing nearly the same expiry; writing each
 * would bump the row's seq again and again, and every other isolate would read it again each time.
 */
const COOLDOWN_SLACK_SECONDS = 2
const EXTENDS = `coalesce(${RUNNING}, 0) < CAST(?2 AS INTEGER) - ${COOLDOWN_SLACK_SECONDS}`

/**
 * What a cooldown of scope ?1 until ?2 with reason ?4 sets, for one key or a group, on rows that
 * pass EXTENDS (so it and its reason replace any running one): the soonest expiry is kept for the
 * sweep; the row moves past the provider's seq.
 */
const COOLDOWN_SET = `
           cooldowns = json_patch(cooldowns, json_object(?1, CAST(?2 AS INTEGER))),
           cooldown_reasons = json_patch(cooldown_reasons, json_object(?1, ?4)),
           cooldown_next = min(coalesce(cooldown_next, ?2), ?2), seq = ${NEXT_SEQ}`

/**
 * Sets a cooldown for (key, scope) unless one as long is already running, in one statement: D1 runs
 * statements one at a time, so concurrent 429s for other models or keys never overwrite each other.
 * The scope is bound as a value (a JSON object key, matched against `json_each`), never spliced into
 * a JSON path, so no model name can change what the statement does. Returns the row as stored, or
 * undefined when nothing was written: the key is no longer active, or a cooldown as long (within
 * COOLDOWN_SLACK_SECONDS) already runs.
 */
export function setCooldown(d1: D1Database, id: number, scope: CooldownScope, until: number, reason: string) {
  return changeOne(
    d1
      .prepare(
        `UPDATE keys SET ${COOLDOWN_SET}
         WHERE id = ?3 AND status = 'active' AND ${EXTENDS} RETURNING ${POOL_ROW.sql}`,
      )
      .bind(scope, until, id, reason),
  )
}

/**
 * The same cooldown for a key and every active key of its group (keys sharing one quota), in one
 * statement; a key without a group is cooled alone. Keys already cooling as long are left alone.
 * Returns every row changed.
 */
export async function setGroupCooldown(
  d1: D1Database,
  id: number,
  scope: CooldownScope,
  until: number,
  reason: string,
): Promise<PoolRow[]> {
  const r = await all<PoolRow>(
    d1
      .prepare(
        `UPDATE keys SET ${COOLDOWN_SET}
         WHERE status = 'active' AND (id = ?3 OR (key_group IS NOT NULL
           AND (provider, key_group) = (SELECT provider, key_group FROM keys WHERE id = ?3)))
           AND ${EXTENDS}
         RETURNING ${POOL_ROW.sql}`,
      )
      .bind(scope, until, id, reason),
  )
  return r.results
}

/** Blocks an active key, recording why and when. */
export function blockKey(d1: D1Database, id: number, reason: string, at: number) {
  return changeOne(
    d1
      .prepare(
        `UPDATE keys SET status = 'blocked', blocked_reason = ?1, blocked_at = ?2, seq = ${NEXT_SEQ}
         WHERE id = ?3 AND status = 'active' RETURNING ${POOL_ROW.sql}`,
      )
      .bind(reason, at, id),
  )
}

/** Restores a blocked key. */
export function unblockKey(d1: D1Database, id: number) {
  return changeOne(
    d1
      .prepare(
        `UPDATE keys SET status = 'active', blocked_reason = NULL, blocked_at = NULL, seq = ${NEXT_SEQ}
         WHERE id = ?1 AND status = 'blocked' RETURNING ${POOL_ROW.sql}`,
      )
      .bind(id),
  )
}
