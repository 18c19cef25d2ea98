import { and, eq, gt, ne, sql } from 'drizzle-orm'
import type { Db } from './client'
import { keys } from './schema'

/** The columns the request path needs; remarks and timestamps stay in D1. */
const poolColumns = {
  id: keys.id,
  provider: keys.provider,
  key: keys.key,
  status: keys.status,
  cooldowns: keys.cooldowns,
  seq: keys.seq,
}

export interface PoolRow {
  id: number
  provider: string
  key: string
  status: 'active' | 'blocked' | 'deleted'
  cooldowns: string
  seq: number
}

/**
 * Every write bumps the row's `seq` past the provider's maximum so that pool refreshes find it.
 * Served by the (provider, seq) index: one row read, whatever the pool size.
 */
export const nextSeq = sql`(SELECT coalesce(max(k2.seq), 0) + 1 FROM keys AS k2 WHERE k2.provider = "keys"."provider")`

/** Full load of one provider's pool, plus the highest seq seen (tombstones included). */
export async function loadProviderPool(
  db: Db,
  provider: string,
): Promise<{ rows: PoolRow[]; maxSeq: number }> {
  const [rows, max] = await db.batch([
    db
      .select(poolColumns)
      .from(keys)
      .where(and(eq(keys.provider, provider), ne(keys.status, 'deleted'))),
    db
      .select({ maxSeq: sql<number | null>`max(${keys.seq})` })
      .from(keys)
      .where(eq(keys.provider, provider)),
  ])
  return { rows, maxSeq: max[0]?.maxSeq ?? 0 }
}

/** Rows of one provider changed since `seq` (through the index: reads only the changed rows). */
export function changedSince(db: Db, provider: string, seq: number): Promise<PoolRow[]> {
  return db
    .select(poolColumns)
    .from(keys)
    .where(and(eq(keys.provider, provider), gt(keys.seq, seq)))
}

/**
 * Sets a cooldown for (key, model) unless a longer one is already running, in one atomic statement.
 * Returns the row as stored, or undefined when the key is no longer active.
 */
export async function setCooldown(
  db: Db,
  id: number,
  model: string,
  until: number,
): Promise<PoolRow | undefined> {
  const path = jsonPath(model)
  const [row] = await db
    .update(keys)
    .set({
      cooldowns: sql`json_set(${keys.cooldowns}, ${path}, max(${until}, coalesce(json_extract(${keys.cooldowns}, ${path}), 0)))`,
      seq: nextSeq,
    })
    .where(and(eq(keys.id, id), eq(keys.status, 'active')))
    .returning(poolColumns)
  return row
}

/** Blocks an active key, recording why and when. */
export async function blockKey(db: Db, id: number, reason: string, at: number): Promise<PoolRow | undefined> {
  const [row] = await db
    .update(keys)
    .set({ status: 'blocked', blockedReason: reason, blockedAt: at, seq: nextSeq })
    .where(and(eq(keys.id, id), eq(keys.status, 'active')))
    .returning(poolColumns)
  return row
}

/** Model names become a quoted JSON path member; the proxy only admits names without `"` or `\`. */
function jsonPath(model: string): string {
  return `$."${model}"`
}
