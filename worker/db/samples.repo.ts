import { all } from './meter'

/** How many keys a provider had at one sample, and how many of them were cooling or blocked. */
export interface StateSample {
  at: number
  total: number
  cooling: number
  blocked: number
}

/**
 * Samples every provider's key states in one statement: the totals from `key_pages` (one row per
 * 1,000 keys) and the cooling and blocked keys through the `keys_provider_dynamic` partial index, so
 * a run reads the few keys not in their default state, never one row per key, and writes one row.
 * "Cooling" means what the dashboard's badge means: not blocked, with a cooldown running for any model.
 */
export async function samplePoolStates(d1: D1Database, now: number): Promise<void> {
  await all(
    d1
      .prepare(
        `INSERT OR REPLACE INTO pool_samples (at, counts)
         SELECT ?1, coalesce(json_group_object(p.provider,
                  json_array(p.total, coalesce(d.cooling, 0), coalesce(d.blocked, 0))), '{}')
         FROM (SELECT provider, sum(json_array_length(keys)) AS total FROM key_pages GROUP BY provider) AS p
         LEFT JOIN (
           SELECT provider, sum(status = 'blocked') AS blocked,
             sum(status = 'active' AND EXISTS (SELECT 1 FROM json_each(keys.cooldowns) AS j WHERE j.value > ?1)) AS cooling
           FROM keys WHERE (status = 'blocked' OR cooldown_next IS NOT NULL) GROUP BY provider
         ) AS d ON d.provider = p.provider`,
      )
      .bind(now),
  )
}

/** One cron run's sample: per provider, [total, cooling, blocked]. */
export interface SampleRow {
  at: number
  counts: Record<string, [number, number, number]>
}

/** The samples written after `after` (unix seconds; a primary-key range), oldest first. */
export async function sampleRowsAfter(d1: D1Database, after: number): Promise<SampleRow[]> {
  const r = await all<{ at: number; counts: string }>(
    d1.prepare('SELECT at, counts FROM pool_samples WHERE at > ?1 ORDER BY at').bind(after),
  )
  return r.results.map((row) => ({ at: row.at, counts: JSON.parse(row.counts) as SampleRow['counts'] }))
}

/** Samples regrouped per provider, oldest first. */
export function samplesByProvider(rows: SampleRow[]): Map<string, StateSample[]> {
  const byProvider = new Map<string, StateSample[]>()
  for (const row of rows) {
    for (const [provider, [total, cooling, blocked]] of Object.entries(row.counts)) {
      const list = byProvider.get(provider) ?? []
      list.push({ at: row.at, total, cooling, blocked })
      byProvider.set(provider, list)
    }
  }
  return byProvider
}

export async function pruneSamples(d1: D1Database, before: number): Promise<number> {
  const r = await all(d1.prepare('DELETE FROM pool_samples WHERE at < ?1').bind(before))
  return r.meta.changes ?? 0
}
