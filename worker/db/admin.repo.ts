import { and, asc, count, eq, ne, sql, type SQL } from 'drizzle-orm'
import type { SQLiteUpdateSetSource } from 'drizzle-orm/sqlite-core'
import type { Db } from './client'
import { batch } from './meter'
import { rebuildPages } from './pages'
import { NEXT_SEQ } from './pool.repo'
import { keys, type KeyRow } from './schema'

/**
 * Keys go in as one JSON array parameter per statement (`json_each`), not as bound columns: D1 allows
 * only 100 bound parameters per statement, which would mean 300+ statements for 10,000 keys. A chunk
 * stays well under D1's 100 KB statement size.
 */
const INSERT_CHUNK_BYTES = 60_000

const INSERT_SQL = `INSERT INTO keys (provider, key, remark, status, cooldowns, seq, created_at)
SELECT ?1, j.value, ?2, 'active', '{}', (SELECT coalesce(max(k2.seq), 0) + 1 FROM keys AS k2 WHERE k2.provider = ?1), ?3
FROM json_each(?4) AS j WHERE true
ON CONFLICT (provider, key) DO NOTHING`

export interface NewKeys {
  provider: string
  keys: string[]
  remark: string
  nowSeconds: number
}

/** Inserts new keys, skipping ones already stored. All chunks run in one D1 batch: all or nothing. */
export async function insertKeys(d1: D1Database, input: NewKeys): Promise<number> {
  const statements = chunkByBytes(input.keys, INSERT_CHUNK_BYTES).map((chunk) =>
    d1.prepare(INSERT_SQL).bind(input.provider, input.remark, input.nowSeconds, JSON.stringify(chunk)),
  )
  if (statements.length === 0) return 0
  const results = await batch(d1, [...statements, ...rebuildPages(d1, input.provider)])
  return results.slice(0, statements.length).reduce((sum, r) => sum + (r.meta.changes ?? 0), 0)
}

function chunkByBytes(items: string[], maxBytes: number): string[][] {
  const chunks: string[][] = []
  let current: string[] = []
  let size = 2
  for (const item of items) {
    const itemSize = item.length * 3 + 3 // worst case UTF-8 plus quotes and comma
    if (current.length > 0 && size + itemSize > maxBytes) {
      chunks.push(current)
      current = []
      size = 2
    }
    current.push(item)
    size += itemSize
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

export interface KeyFilter {
  provider?: string | undefined
  status?: 'active' | 'blocked' | undefined
  limit: number
  offset: number
}

export async function listKeys(db: Db, filter: KeyFilter): Promise<{ rows: KeyRow[]; total: number }> {
  const conditions: SQL[] = [ne(keys.status, 'deleted')]
  if (filter.provider) conditions.push(eq(keys.provider, filter.provider))
  if (filter.status) conditions.push(eq(keys.status, filter.status))
  const where = and(...conditions)
  const [rows, totals] = await db.batch([
    db.select().from(keys).where(where).orderBy(asc(keys.id)).limit(filter.limit).offset(filter.offset),
    db.select({ n: count() }).from(keys).where(where),
  ])
  return { rows, total: totals[0]?.n ?? 0 }
}

/**
 * Deleted keys become tombstones (so every isolate's incremental refresh sees the deletion) and their
 * key material is wiped at once: `deleted:<id>` also frees the (provider, key) slot for a re-add.
 */
export async function deleteKeys(d1: D1Database, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0
  const [tombstones] = await batch(d1, [
    d1
      .prepare(
        `UPDATE keys SET status = 'deleted', key = 'deleted:' || id, cooldowns = '{}', cooldown_next = NULL,
           remark = '', seq = ${NEXT_SEQ}
         WHERE id IN (SELECT value FROM json_each(?1)) AND status != 'deleted'`,
      )
      .bind(JSON.stringify(ids)),
    // Deletes are rare: rebuilding every provider's pages keeps this one statement simple.
    ...rebuildPages(d1),
  ])
  return tombstones?.meta.changes ?? 0
}

/** Applies an admin patch in one statement; blocking keeps an existing block's reason and time. */
export async function updateKey(
  db: Db,
  id: number,
  patch: { status?: 'active' | 'blocked'; clearCooldowns?: true; remark?: string },
  nowSeconds: number,
): Promise<KeyRow | undefined> {
  const set: SQLiteUpdateSetSource<typeof keys> = { seq: sql.raw(NEXT_SEQ) }
  if (patch.remark !== undefined) set.remark = patch.remark
  if (patch.clearCooldowns) Object.assign(set, { cooldowns: '{}', cooldownNext: null })
  if (patch.status === 'active')
    Object.assign(set, { status: 'active', blockedReason: null, blockedAt: null })
  if (patch.status === 'blocked') {
    Object.assign(set, {
      status: 'blocked',
      blockedReason: sql`CASE WHEN ${keys.status} = 'blocked' THEN ${keys.blockedReason} ELSE 'manual' END`,
      blockedAt: sql`CASE WHEN ${keys.status} = 'blocked' THEN ${keys.blockedAt} ELSE ${nowSeconds} END`,
    })
  }
  const [row] = await db
    .update(keys)
    .set(set)
    .where(and(eq(keys.id, id), ne(keys.status, 'deleted')))
    .returning()
  return row
}
