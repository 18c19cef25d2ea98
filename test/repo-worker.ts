/**
 * A test-only Worker that runs the storage functions inside workerd, against its D1, exactly as the
 * real Worker calls them, and reports the D1 rows each call read and wrote. Tests call it over HTTP,
 * rather than through Miniflare's Node-side D1 proxy, whose synchronous calls are not safe when
 * several are in flight at once.
 */
import { deleteKeys, insertKeys } from '../worker/db/admin.repo'
import { d1Usage } from '../worker/db/meter'
import { blockKey, changedSince, loadProviderPool, setCooldown } from '../worker/db/pool.repo'

type Fn = (d1: D1Database, ...args: never[]) => Promise<unknown>

const functions: Record<string, Fn> = {
  blockKey,
  changedSince,
  loadProviderPool,
  setCooldown,
  insertKeys,
  deleteKeys,
  /** Reads one key row as stored. */
  row: (d1: D1Database, id: number) => d1.prepare('SELECT * FROM keys WHERE id = ?1').bind(id).first(),
  sql: async (d1: D1Database, query: string) => (await d1.prepare(query).all()).results,
}

export default {
  async fetch(request: Request, env: { DB: D1Database }): Promise<Response> {
    const calls = (await request.json()) as { fn: string; args: unknown[] }[]
    const before = { ...d1Usage }
    // Several calls in one request run concurrently, as concurrent requests' writes would.
    const results = await Promise.all(
      calls.map((c) => (functions[c.fn] as Fn)(env.DB, ...(c.args as never[]))),
    )
    return Response.json({
      results,
      usage: {
        queries: d1Usage.queries - before.queries,
        rowsRead: d1Usage.rowsRead - before.rowsRead,
        rowsWritten: d1Usage.rowsWritten - before.rowsWritten,
      },
    })
  },
}
