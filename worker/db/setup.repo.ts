import { all } from './meter'

/** `meta` key: unix seconds of the Cron Trigger's last run. */
export const LAST_CRON = 'last_cron'

/** Names of the migrations wrangler has applied (its own `d1_migrations` table); undefined if none. */
export async function appliedMigrations(d1: D1Database): Promise<string[] | undefined> {
  try {
    const r = await all<{ name: string }>(d1.prepare('SELECT name FROM d1_migrations ORDER BY id'))
    return r.results.map((m) => m.name)
  } catch {
    return undefined // no such table: migrations were never applied through wrangler
  }
}

export async function readMeta(d1: D1Database, key: string): Promise<string | undefined> {
  const r = await all<{ value: string }>(d1.prepare('SELECT value FROM meta WHERE key = ?1').bind(key))
  return r.results[0]?.value
}

/** One row, written once per cron run (a few hundred rows a day). */
export async function writeMeta(d1: D1Database, key: string, value: string): Promise<void> {
  await all(
    d1
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      )
      .bind(key, value),
  )
}
