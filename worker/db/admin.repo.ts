import type { ProviderId } from '../providers/types'
import { all, batch } from './meter'
import { rebuildPages } from './pages'
import { NEXT_SEQ } from './pool.repo'
import { ADMIN_ROW, CHECK_ROW, type AdminRow, type CheckRow } from './rows'
import type { LiveStatus } from './statuses'

/**
 * Keys go in as one JSON array parameter per statement (`json_each`), not as bound columns: D1 allows
 * only 100 bound parameters per statement, which would mean 300+ statements for 10,000 keys. A chunk
 * stays well under D1's 100 KB statement size.
 */
const CHUNK_BYTES = 60_000

/** A key ready to store: sealed, fingerprinted, and as given (only to match rows not sealed yet). */
export interface SealedKey {
  fingerprint: string
  sealed: string
  plain: string
}

export interface NewKeys {
  provider: ProviderId
  keys: SealedKey[]
  remark: string
  nowSeconds: number
  /** Default active; blocked keys (an import) carry `blockedReason`. */
  status?: LiveStatus | undefined
  blockedReason?: string | undefined
  group?: string | undefined
  weight?: number | undefined
  tier?: number | undefined
  /** Whether rows from before encryption remain (hasUnsealedKeys): they are matched by plain key. */
  unsealedRemain: boolean
}

/**
 * New rows for keys whose fingerprint is not stored yet (nor, while unsealed rows remain, their plain
 * text). The plain key is a statement parameter for that comparison only; it is never stored.
 */
const INSERT_SQL = `INSERT INTO keys (provider, key, fingerprint, remark, status, blocked_reason, blocked_at, key_group, weight, tier, cooldowns, seq, created_at)
SELECT ?1, json_extract(j.value, '$[1]'), json_extract(j.value, '$[0]'), ?2, ?6,
  CASE WHEN ?6 = 'blocked' THEN ?7 END, CASE WHEN ?6 = 'blocked' THEN ?3 END, ?8, ?9, ?10, '{}',
  (SELECT coalesce(max(k2.seq), 0) + 1 FROM keys AS k2 WHERE k2.provider = ?1), ?3
FROM json_each(?4) AS j
WHERE NOT ?5 OR NOT EXISTS (SELECT 1 FROM keys AS k WHERE k.provider = ?1 AND k.key = json_extract(j.value, '$[2]'))
ON CONFLICT (provider, fingerprint) DO NOTHING`

const IDS_SQL = `SELECT id, fingerprint AS ref FROM keys WHERE provider = ?1 AND fingerprint IN (SELECT json_extract(value, '$[0]') FROM json_each(?2))
UNION ALL SELECT id, key AS ref FROM keys WHERE ?3 AND provider = ?1 AND fingerprint IS NULL AND key IN (SELECT json_extract(value, '$[2]') FROM json_each(?2))`

/**
 * Inserts new keys, skipping ones already stored, and returns every given key's id (new or old) in
 * order. All chunks run in one D1 batch: all or nothing.
 */
export async function insertKeys(d1: D1Database, input: NewKeys): Promise<{ added: number; ids: number[] }> {
  const chunks = chunkByBytes(
    input.keys.map((k) => [k.fingerprint, k.sealed, k.plain]),
    CHUNK_BYTES,
  ).map((c) => JSON.stringify(c))
  if (chunks.length === 0) return { added: 0, ids: [] }
  const legacy = input.unsealedRemain ? 1 : 0
  const inserts = chunks.map((c) =>
    d1
      .prepare(INSERT_SQL)
      .bind(
        input.provider,
        input.remark,
        input.nowSeconds,
        c,
        legacy,
        input.status ?? 'active',
        input.blockedReason ?? 'manual',
        input.group ?? null,
        input.weight ?? 1,
        input.tier ?? 0,
      ),
  )
  const lookups = chunks.map((c) => d1.prepare(IDS_SQL).bind(input.provider, c, legacy))
  const results = await batch<{ id: number; ref: string }>(d1, [
    ...inserts,
    ...rebuildPages(d1, input.provider),
    ...lookups,
  ])
  const added = results.slice(0, inserts.length).reduce((sum, r) => sum + (r.meta.changes ?? 0), 0)
  const byRef = new Map(results.slice(-lookups.length).flatMap((r) => r.results.map((x) => [x.ref, x.id])))
  const ids = input.keys.map((k) => byRef.get(k.fingerprint) ?? byRef.get(k.plain) ?? 0)
  return { added, ids }
}

function chunkByBytes(items: string[][], maxBytes: number): string[][][] {
  const chunks: string[][][] = []
  let current: string[][] = []
  let size = 2
  for (const item of items) {
    const itemSize = item.reduce((n, s) => n + s.length * 3 + 3, 2) // worst-case UTF-8, quotes, commas
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

/** Whether any live row still holds its key unsealed (one probe of the partial index `keys_unsealed`). */
export async function hasUnsealedKeys(d1: D1Database): Promise<boolean> {
  const r = await all(
    d1.prepare("SELECT 1 FROM keys WHERE fingerprint IS NULL AND status != 'deleted' LIMIT 1"),
  )
  return r.results.length > 0
}

/** Up to `limit` rows from before encryption, through the same index. */
export async function unsealedKeys(d1: D1Database, limit: number): Promise<CheckRow[]> {
  const r = await all<CheckRow>(
    d1
      .prepare(
        `SELECT ${CHECK_ROW.sql} FROM keys WHERE fingerprint IS NULL AND status != 'deleted' ORDER BY id LIMIT ?1`,
      )
      .bind(limit),
  )
  return r.results
}

/**
 * Replaces plain keys with their sealed form and fingerprint, and rebuilds those providers' pages so
 * no plain key is left in them. A row whose key changed meanwhile (deleted, say) is left alone, and
 * so is one whose fingerprint another row already has (OR IGNORE; it stays for a person to see).
 * `seq` does not move: views may keep either form of the same key. Returns how many were sealed.
 */
export async function sealKeys(
  d1: D1Database,
  rows: { id: number; provider: ProviderId; plain: string; sealed: string; fingerprint: string }[],
): Promise<number> {
  const chunks = chunkByBytes(
    rows.map((r) => [String(r.id), r.plain, r.sealed, r.fingerprint]),
    CHUNK_BYTES,
  )
  if (chunks.length === 0) return 0
  const providers = [...new Set(rows.map((r) => r.provider))]
  const results = await batch(d1, [
    ...chunks.map((c) =>
      d1
        .prepare(
          `UPDATE OR IGNORE keys SET key = u.sealed, fingerprint = u.fingerprint
           FROM (SELECT CAST(json_extract(value, '$[0]') AS INTEGER) AS id, json_extract(value, '$[1]') AS plain,
                        json_extract(value, '$[2]') AS sealed, json_extract(value, '$[3]') AS fingerprint
                 FROM json_each(?1)) AS u
           WHERE keys.id = u.id AND keys.key = u.plain AND keys.fingerprint IS NULL`,
        )
        .bind(JSON.stringify(c)),
    ),
    ...providers.flatMap((p) => rebuildPages(d1, p)),
  ])
  return results.slice(0, chunks.length).reduce((sum, r) => sum + (r.meta.changes ?? 0), 0)
}

/**
 * Deleted keys become tombstones (so every isolate's incremental refresh sees the deletion) and their
 * key material is wiped at once: `deleted:<id>` and a null fingerprint also free its slot for a re-add.
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
        `UPDATE keys SET status = 'deleted', key = 'deleted:' || id, fingerprint = NULL, cooldowns = '{}', cooldown_reasons = '{}', cooldown_next = NULL,
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
  /** A group name, or null to take the key out of its group. */
  group?: string | null | undefined
  weight?: number | undefined
  tier?: number | undefined
}

/**
 * Applies an admin change to many keys in one statement. Blocking keeps an existing block's reason
 * and time; every changed row moves past the provider's seq, so every isolate sees the change. A
 * change of group, weight or tier also rebuilds the pages (a cold isolate reads them there), in
 * the same transaction.
 */
export async function updateKeys(
  d1: D1Database,
  ids: number[],
  changes: KeyChanges,
  nowSeconds: number,
): Promise<number> {
  const update = d1
    .prepare(
      `UPDATE keys SET
         status = coalesce(?2, status),
         blocked_reason = CASE WHEN ?2 = 'active' THEN NULL WHEN ?2 = 'blocked' AND status != 'blocked' THEN 'manual' ELSE blocked_reason END,
         blocked_at = CASE WHEN ?2 = 'active' THEN NULL WHEN ?2 = 'blocked' AND status != 'blocked' THEN ?5 ELSE blocked_at END,
         cooldowns = CASE WHEN ?3 THEN '{}' ELSE cooldowns END,
         cooldown_reasons = CASE WHEN ?3 THEN '{}' ELSE cooldown_reasons END,
         cooldown_next = CASE WHEN ?3 THEN NULL ELSE cooldown_next END,
         remark = coalesce(?4, remark),
         key_group = CASE WHEN ?6 THEN ?7 ELSE key_group END,
         weight = coalesce(?8, weight),
         tier = coalesce(?9, tier),
         seq = ${NEXT_SEQ}
       WHERE id IN (SELECT value FROM json_each(?1)) AND status != 'deleted'`,
    )
    .bind(
      JSON.stringify(ids),
      changes.status ?? null,
      changes.clearCooldowns ? 1 : 0,
      changes.remark ?? null,
      nowSeconds,
      changes.group !== undefined ? 1 : 0,
      changes.group ?? null,
      changes.weight ?? null,
      changes.tier ?? null,
    )
  const settings = changes.group !== undefined || changes.weight !== undefined || changes.tier !== undefined
  const [r] = await batch(d1, settings ? [update, ...rebuildPages(d1)] : [update])
  return r?.meta.changes ?? 0
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
