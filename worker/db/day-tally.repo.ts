import { limitOverridesStatement, type OverrideRow } from './limits.repo'
import { batch } from './meter'

/** A tally entry's name. Model names hold neither `|` nor a quote (proxy/model.ts), key ids are digits. */
export const entryName = (model: string, keyId: number): string => `${model}|${keyId}`

/** What may be written into the SQL text below: a checked model name, `|`, a key id. */
const ENTRY = /^[A-Za-z0-9._:@/+-]{1,200}\|\d{1,15}$/

/** D1 allows 32 arguments to a SQL function: the object and 15 (path, value) pairs. */
const PAIRS_PER_CALL = 15

/** D1 allows 100 KB of SQL text; an entry takes about 130 bytes of it. */
const ENTRIES_PER_STATEMENT = 500

export interface TallyRead {
  /** Entry name → the day's total, every isolate's syncs included. */
  counts: Map<string, number>
  overrides: OverrideRow[]
}

/**
 * `counts` with each delta added, in SQL so that concurrent syncs of several isolates all count:
 * nested json_set calls (no json_each, which D1 would bill as a row read per element). The paths
 * and figures are written into the text, checked against ENTRY and as integers, because D1 binds
 * at most 100 parameters.
 */
function plus(deltas: [string, number][]): string {
  let expr = 'counts'
  for (let i = 0; i < deltas.length; i += PAIRS_PER_CALL) {
    const pairs = deltas.slice(i, i + PAIRS_PER_CALL).map(([name, n]) => {
      if (!ENTRY.test(name) || !Number.isSafeInteger(n) || n < 0) throw new Error('day tally: bad entry')
      const path = `'$."${name}"'`
      return `${path}, coalesce(json_extract(counts, ${path}), 0) + ${n}`
    })
    expr = `json_set(${expr}, ${pairs.join(', ')})`
  }
  return expr
}

/**
 * Adds `deltas` (entry name → requests) to the provider's tally of `day` and reads back that day's
 * whole tally and the provider's limit overrides, in one batch (one transaction): the tally row
 * written and returned, and the overrides read, whatever the pool's size. With no deltas it only reads.
 */
export async function syncDayTally(
  d1: D1Database,
  provider: string,
  day: string,
  deltas: Map<string, number>,
): Promise<TallyRead> {
  const entries = [...deltas].filter(([, n]) => n > 0)
  const statements: D1PreparedStatement[] = []
  for (let i = 0; i < entries.length; i += ENTRIES_PER_STATEMENT) {
    const chunk = entries.slice(i, i + ENTRIES_PER_STATEMENT)
    // Only the last statement returns the row: by then it holds every chunk.
    const returning = i + ENTRIES_PER_STATEMENT >= entries.length ? ' RETURNING counts' : ''
    statements.push(
      i === 0
        ? d1
            .prepare(
              `INSERT INTO day_tally (provider, day, counts) VALUES (?1, ?2, ?3)
               ON CONFLICT (provider, day) DO UPDATE SET counts = ${plus(chunk)}${returning}`,
            )
            .bind(provider, day, JSON.stringify(Object.fromEntries(chunk)))
        : d1
            .prepare(
              `UPDATE day_tally SET counts = ${plus(chunk)} WHERE provider = ?1 AND day = ?2${returning}`,
            )
            .bind(provider, day),
    )
  }
  if (statements.length === 0) {
    statements.push(
      d1.prepare('SELECT counts FROM day_tally WHERE provider = ?1 AND day = ?2').bind(provider, day),
    )
  }
  statements.push(limitOverridesStatement(d1, provider))
  const results = await batch<unknown>(d1, statements)
  const row = results[results.length - 2]?.results[0] as { counts: string } | undefined
  const counts = new Map<string, number>()
  if (row) {
    for (const [name, n] of Object.entries(JSON.parse(row.counts) as Record<string, unknown>)) {
      if (typeof n === 'number') counts.set(name, n)
    }
  }
  return { counts, overrides: (results[results.length - 1]?.results ?? []) as OverrideRow[] }
}

/** The cron: days before `day` (`YYYY-MM-DD`) are over everywhere. */
export async function pruneDayTally(d1: D1Database, day: string): Promise<void> {
  await batch(d1, [d1.prepare('DELETE FROM day_tally WHERE day < ?1').bind(day)])
}
