import { addCounts } from '../db/counts'
import type { StatsRow } from '../db/stats.repo'
import type { TailRow } from '../db/usage-tail.repo'

/**
 * Batch rows summed in JavaScript, exactly as stats.repo.ts's AGGREGATE sums them in D1: per (hour,
 * key, model), counts added, the latest use and the latest error kept. Reading a row whole costs one
 * D1 row read where D1's json_each costs one per entry.
 */

/** Rows per hour, each hour's by `<keyId>|<model>`. */
export type HourRows = Map<number, Map<string, StatsRow>>

/** A usage entry (stats.repo.ts UsageEntry) as the row the SQL sum gives; tokens default to 0 as there. */
function toRow(hour: number, e: unknown[]): StatsRow {
  return {
    hour,
    keyId: e[0] as number,
    provider: e[1] as string,
    model: e[2] as string,
    requests: e[3] as number,
    successes: e[4] as number,
    rateLimited: e[5] as number,
    errors: e[6] as number,
    lastUsed: e[7] as number,
    lastError: (e[8] as string | null) ?? null,
    inputTokens: (e[9] as number | undefined) ?? 0,
    outputTokens: (e[10] as number | undefined) ?? 0,
    cachedTokens: (e[11] as number | undefined) ?? 0,
  }
}

/** Adds `from` into `into` as the SQL sum does: counts add, the latest use and error win. */
function merge(into: StatsRow, from: StatsRow): void {
  addCounts(into, from)
  if ((from.lastUsed ?? 0) > (into.lastUsed ?? 0)) into.lastUsed = from.lastUsed
  // `<12-digit time>|…`: the greater text is the newer error, as SQL's max() picks it.
  if (from.lastError !== null && (into.lastError === null || from.lastError > into.lastError)) {
    into.lastError = from.lastError
  }
}

export function hourOf(hours: HourRows, hour: number): Map<string, StatsRow> {
  let rows = hours.get(hour)
  if (!rows) hours.set(hour, (rows = new Map()))
  return rows
}

/** Adds a stored batch row's entries into `hours`, those for which `keep` holds when given. */
export function addBatchRow(hours: HourRows, row: TailRow, keep?: (r: StatsRow) => boolean): void {
  const into = hourOf(hours, row.hour)
  for (const e of JSON.parse(row.entries) as unknown[][]) {
    const r = toRow(row.hour, e)
    if (keep && !keep(r)) continue
    const id = `${r.keyId}|${r.model}`
    const held = into.get(id)
    if (held) merge(held, r)
    else into.set(id, r)
  }
}

/** Batch rows summed per (hour, key, model). */
export function sumBatchRows(rows: TailRow[], keep?: (r: StatsRow) => boolean): StatsRow[] {
  const hours: HourRows = new Map()
  for (const row of rows) addBatchRow(hours, row, keep)
  return [...hours.values()].flatMap((h) => [...h.values()])
}
