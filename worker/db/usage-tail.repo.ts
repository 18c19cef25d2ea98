import { all, batch } from './meter'
import { MARK } from './metrics.repo'
import { AGGREGATE, type StatsRow } from './stats.repo'

/**
 * The reads behind the dashboard's usage window (admin/usage-window.ts): one full read when an
 * isolate starts the window, then only the batch rows written since. Each is one D1 batch, which D1
 * runs as one transaction, so the rows and the ids they are measured against agree.
 *
 * `seen` is the highest id the window can claim to hold: every row at or below it that exists has
 * been read. It is at least the metrics mark, so an id the cron deleted before the read (compaction
 * folds an hour into its lowest ids) does not count as missing later.
 */

/**
 * Entries, in bytes of JSON, that a read takes whole to sum in JavaScript (about 13,000 entries,
 * a few ms of CPU). Above it D1 sums them: one row read per entry, but no CPU of the Worker's, whose
 * free plan allows 10 ms a request.
 */
export const SUM_IN_JS_BYTES = 1_000_000

const SEEN = `SELECT max(coalesce((SELECT max(id) FROM usage_batches), 0), ${MARK}) AS seen`
const IN_HOURS = 'hour >= ?1 AND (?2 IS NULL OR hour < ?2)'

/**
 * Whether the rows of hours in [since, until) are small enough to read whole (one row read each);
 * `flushes`: counting only rows no compaction wrote.
 */
async function smallEnough(
  d1: D1Database,
  since: number,
  until: number | null,
  flushes = false,
): Promise<boolean> {
  const r = await all<{ size: number }>(
    d1
      .prepare(
        `SELECT coalesce(sum(length(entries)), 0) AS size FROM usage_batches WHERE ${IN_HOURS}
         AND (?3 = 0 OR totals IS NULL)`,
      )
      .bind(since, until, flushes ? 1 : 0),
  )
  return (r.results[0]?.size ?? 0) <= SUM_IN_JS_BYTES
}

/**
 * The usage since `since`, and the highest id it holds. The rows the cron compacted are read whole
 * (`rows`) however large: each of their entries is a (hour, key, model) of its own, so D1 summing them
 * would answer as many rows as they hold entries, which costs the Worker more CPU to take than the
 * rows themselves (72,000 entries: 100–170 ms against 80–100 ms, in Node) and a row read per entry.
 * The flushes' rows are read whole too when they are small enough, otherwise summed per (hour, key,
 * model) by D1 (`sums`): there many entries fold into one.
 */
export async function windowStart(
  d1: D1Database,
  since: number,
): Promise<{ seen: number; rows: TailRow[]; sums?: StatsRow[] }> {
  const whole = await smallEnough(d1, since, null, true)
  // Whole: every row in one read (two would each read the day's rows).
  const [head, rows, sums] = await batch<never>(d1, [
    d1.prepare(SEEN),
    d1
      .prepare(`SELECT id, hour, entries FROM usage_batches WHERE ${IN_HOURS} AND (?3 OR totals IS NOT NULL)`)
      .bind(since, null, whole ? 1 : 0),
    ...(whole
      ? []
      : [
          d1
            .prepare(`${AGGREGATE} WHERE b.hour >= ?1 AND b.totals IS NULL GROUP BY b.hour, keyId, model`)
            .bind(since),
        ]),
  ])
  const seen = (head?.results[0] as { seen: number } | undefined)?.seen ?? 0
  const read = (rows?.results ?? []) as unknown as TailRow[]
  return whole ? { seen, rows: read } : { seen, rows: read, sums: sums?.results as StatsRow[] }
}

/**
 * A week's older hours for its chart per provider: the totals the cron's compaction wrote (a row
 * read per hour, schema.ts `totals`), and the rows no compaction covered (an hour it left as it was,
 * a flush that came after it), whole, or undefined when D1 should sum those (see above).
 */
export async function hourTotals(
  d1: D1Database,
  since: number,
  until: number,
): Promise<{ totals: { hour: number; totals: string }[]; uncovered: TailRow[] | undefined }> {
  const [covered, size] = await batch<never>(d1, [
    d1
      .prepare(`SELECT hour, totals FROM usage_batches WHERE ${IN_HOURS} AND totals != ''`)
      .bind(since, until),
    d1
      .prepare(
        `SELECT coalesce(sum(length(entries)), 0) AS size FROM usage_batches WHERE ${IN_HOURS} AND totals IS NULL`,
      )
      .bind(since, until),
  ])
  const totals = covered?.results as unknown as { hour: number; totals: string }[]
  if (((size?.results[0] as { size?: number } | undefined)?.size ?? 0) > SUM_IN_JS_BYTES) {
    return { totals, uncovered: undefined }
  }
  const r = await all<TailRow>(
    d1
      .prepare(`SELECT id, hour, entries FROM usage_batches WHERE ${IN_HOURS} AND totals IS NULL`)
      .bind(since, until),
  )
  return { totals, uncovered: r.results }
}

/** The rows of hours in [since, until), whole, or undefined when D1 should sum them (see above). */
export async function rowsIfSmall(
  d1: D1Database,
  since: number,
  until: number,
): Promise<TailRow[] | undefined> {
  if (!(await smallEnough(d1, since, until))) return undefined
  const r = await all<TailRow>(
    d1.prepare(`SELECT id, hour, entries FROM usage_batches WHERE ${IN_HOURS}`).bind(since, until),
  )
  return r.results
}

/**
 * One key's usage in the hours [since, until), as batch rows holding only its entries (one per hour),
 * found through each row's key index (schema.ts `keys`): D1 reads the hours' rows and the key's own
 * entries, where summing with json_each reads every entry of every key (433,523 rows for a week of
 * 1,000 keys). Undefined while a row from before the index is in range (the caller sums as before).
 */
export async function keyUsage(
  d1: D1Database,
  keyId: number,
  since: number,
  until: number,
): Promise<TailRow[] | undefined> {
  const [unindexed, found] = await batch<never>(d1, [
    d1
      .prepare(`SELECT count(*) AS n FROM usage_batches WHERE ${IN_HOURS} AND keys IS NULL`)
      .bind(since, until),
    d1
      .prepare(
        `SELECT b.hour AS hour, json_extract(b.entries, '$[' || i.value || ']') AS entry
         FROM usage_batches AS b, json_each(b.keys, ?3) AS i
         WHERE b.hour >= ?1 AND b.hour < ?2 AND b.keys IS NOT NULL`,
      )
      .bind(since, until, `$."${keyId}"`),
  ])
  if (((unindexed?.results[0] as { n?: number } | undefined)?.n ?? 0) > 0) return undefined
  const byHour = new Map<number, string[]>()
  for (const { hour, entry } of (found?.results ?? []) as unknown as { hour: number; entry: string }[]) {
    let list = byHour.get(hour)
    if (!list) byHour.set(hour, (list = []))
    list.push(entry)
  }
  return [...byHour].map(([hour, entries]) => ({ id: 0, hour, entries: `[${entries.join(',')}]` }))
}

/** A batch row as stored: `entries` is a JSON array of usage entries (stats.repo.ts UsageEntry). */
export interface TailRow {
  id: number
  hour: number
  entries: string
}

/**
 * The rows written after `after`, read whole (one row read each, where summing them in SQL would read
 * one per entry), unless there are more than `maxRows` of them. `intact` is false when the window
 * must start over instead:
 * - the cron has deleted a row above `after`: compaction folds an hour's rows into its lowest ids, so
 *   a row not yet read may now sit, summed, under an id already read. The ids between `after` and
 *   the mark were all written by flushes (AUTOINCREMENT, one after another), so counting them says
 *   whether any has gone;
 * - more than `maxRows` rows came since (a window nobody looked at for a long while): they are not
 *   read, and starting over lets D1 sum them if they are many.
 */
export async function windowTail(
  d1: D1Database,
  after: number,
  maxRows: number,
): Promise<{ seen: number; intact: boolean; rows: TailRow[] }> {
  const [head, rows] = await batch<never>(d1, [
    d1
      .prepare(
        `SELECT coalesce((SELECT max(id) FROM usage_batches), 0) AS top, ${MARK} AS mark,
           (SELECT count(*) FROM usage_batches WHERE id > ?1 AND id <= ${MARK}) AS kept`,
      )
      .bind(after),
    // By id alone, so D1 walks the primary key from `after` (an hour range would read the whole day).
    // Ids are dense above `after`, so the newest id says how many rows there are (one row read).
    d1
      .prepare(
        `SELECT id, hour, entries FROM usage_batches
         WHERE id > ?1 AND (SELECT max(id) FROM usage_batches) - ?1 <= ?2 ORDER BY id`,
      )
      .bind(after, maxRows),
  ])
  const { top, mark, kept } = head?.results[0] as unknown as { top: number; mark: number; kept: number }
  return {
    seen: Math.max(top, mark, after),
    intact: top - after <= maxRows && (mark <= after || kept === mark - after),
    rows: rows?.results as TailRow[],
  }
}
