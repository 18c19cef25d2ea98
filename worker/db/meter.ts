/**
 * D1 usage of the request path, counted from D1's own `meta` on every statement it runs. Per isolate,
 * since it started; exposed through the admin API so operators and the benchmark can see what a
 * request really costs. The request-path SQL is hand-written (not drizzle) for exactly this reason:
 * drizzle reads through `.raw()`, which returns no `meta`.
 */
export interface D1Usage {
  queries: number
  rowsRead: number
  rowsWritten: number
}

export const d1Usage: D1Usage = { queries: 0, rowsRead: 0, rowsWritten: 0 }

function record(meta: D1Result['meta'] | undefined): void {
  d1Usage.queries++
  d1Usage.rowsRead += meta?.rows_read ?? 0
  d1Usage.rowsWritten += meta?.rows_written ?? 0
}

export async function all<T>(statement: D1PreparedStatement): Promise<D1Result<T>> {
  const result = await statement.all<T>()
  record(result.meta)
  return result
}

export async function batch<T>(d1: D1Database, statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
  const results = await d1.batch<T>(statements)
  for (const r of results) record(r.meta)
  return results
}
