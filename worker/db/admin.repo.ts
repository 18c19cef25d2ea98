import type { ProviderId } from '../providers/types'
import { all, batch } from './meter'
import { rebuildPages } from './pages'
import { NEXT_SEQ } from './pool.repo'
import { ADMIN_ROW, type AdminRow, type LiveStatus } from './rows'

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
  provider: ProviderId
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

/**
 * Deleted keys become tombstones (so every isolate's incremental refresh sees the deletion) and their
 * key material is wiped at once: `deleted:<id>` also frees the (provider, key) slot for a re-add.
 */
export async function deleteKeys(
  d1: D1Database,
  ids: number[],
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<number> {
  if (ids.length === 0) return 0
  const [tombstones] = await batch(d1, [
    d1
      .prepare(
        `UPDATE keys SET status = 'deleted', key = 'deleted:' || id, cooldowns = '{}', cooldown_next = NULL,
           remark = '', deleted_at = ?2, seq = ${NEXT_SEQ}
         WHERE id IN (SELECT value FROM json_each(?1)) AND status != 'deleted'`,
      )
      .bind(JSON.stringify(ids), nowSeconds),
    // Deletes are rare: rebuilding every provider's pages keeps this one statement simple.
    ...rebuildPages(d1),
  ])
  return tombstones?.meta.changes ?? 0
}

export interface KeyChanges {
  status?: LiveStatus | undefined
  clearCooldowns?: true | undefined
  remark?: string | undefined
}

/**
 * Applies an admin change to many keys in one statement. Blocking keeps an existing block's reason
 * and time; every changed row moves past the provider's seq, so every isolate sees the change.
 */
export async function updateKeys(
  d1: D1Database,
  ids: number[],
  changes: KeyChanges,
  nowSeconds: number,
): Promise<number> {
  const r = await all(
    d1
      .prepare(
        `UPDATE keys SET
           status = coalesce(?2, status),
           blocked_reason = CASE WHEN ?2 = 'active' THEN NULL WHEN ?2 = 'blocked' AND status != 'blocked' THEN 'manual' ELSE blocked_reason END,
           blocked_at = CASE WHEN ?2 = 'active' THEN NULL WHEN ?2 = 'blocked' AND status != 'blocked' THEN ?5 ELSE blocked_at END,
           cooldowns = CASE WHEN ?3 THEN '{}' ELSE cooldowns END,
           cooldown_next = CASE WHEN ?3 THEN NULL ELSE cooldown_next END,
           remark = coalesce(?4, remark),
           seq = ${NEXT_SEQ}
         WHERE id IN (SELECT value FROM json_each(?1)) AND status != 'deleted'`,
      )
      .bind(
        JSON.stringify(ids),
        changes.status ?? null,
        changes.clearCooldowns ? 1 : 0,
        changes.remark ?? null,
        nowSeconds,
      ),
  )
  return r.meta.changes ?? 0
}

/**
 * Every key whose seq moved past its provider's cursor, across all providers in one query (one
 * range of the (provider, seq) index per provider): how the dashboard's AdminView stays current.
 */
export async function adminRowsChangedSince(
  d1: D1Database,
  cursors: ReadonlyMap<string, number>,
): Promise<AdminRow[]> {
  const entries = [...cursors]
  const terms = entries.map((_, i) => `(provider = ?${2 * i + 1} AND seq > ?${2 * i + 2})`)
  const { results } = await all<AdminRow>(
    d1.prepare(`SELECT ${ADMIN_ROW.sql} FROM keys WHERE ${terms.join(' OR ')}`).bind(...entries.flat()),
  )
  return results
}
