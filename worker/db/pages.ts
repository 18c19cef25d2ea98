/**
 * Rebuilding `key_pages` (see schema.ts): `[id, key, weight, tier, group]` per key, everything a
 * cold isolate needs to pick keys but their state. Runs inside the same D1 batch as the change to which keys
 * exist, so the pages and the keys never disagree. Reads the provider's keys once: an admin cost.
 */
export const PAGE_SIZE = 1000

export function rebuildPages(d1: D1Database, provider?: string): D1PreparedStatement[] {
  const only = provider === undefined ? '' : 'AND provider = ?1'
  const del = d1.prepare(`DELETE FROM key_pages ${provider === undefined ? '' : 'WHERE provider = ?1'}`)
  const insert = d1.prepare(
    `INSERT INTO key_pages (provider, page, keys)
     SELECT provider, page, json_group_array(json_array(id, key, weight, tier, key_group))
     FROM (
       SELECT provider, id, key, weight, tier, key_group, (row_number() OVER (PARTITION BY provider ORDER BY id) - 1) / ${PAGE_SIZE} AS page
       FROM keys WHERE status != 'deleted' ${only} ORDER BY provider, id
     )
     GROUP BY provider, page`,
  )
  return provider === undefined ? [del, insert] : [del.bind(provider), insert.bind(provider)]
}
