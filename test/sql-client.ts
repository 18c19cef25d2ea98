/**
 * The tests' own view of the Worker's D1, without Miniflare's Node-side D1 proxy.
 *
 * That proxy answers `prepare` and `bind` through a synchronous fetch (a worker thread and
 * Atomics.wait); on a loaded machine it once came back without its answer (CI: `AssertionError:
 * false == true` in SynchronousFetcher, from `d1.prepare` in a beforeEach). Here every statement is
 * an ordinary async HTTP request to a small Worker beside the real one, bound to the same D1, so
 * nothing in the suite waits synchronously on another thread.
 */

/** The sidecar Worker: runs the statements it is sent against its D1 and answers JSON. */
export const SQL_WORKER_SCRIPT = `
// Tests that run two instances on one persisted D1 share a SQLite file between two workerd
// processes; while one writes, the other's statement can be refused ("database is locked", which
// Miniflare's D1 reports as "internal error"). The real D1 is one database and never answers so;
// the tests' own reads and setup writes wait the lock out, as the Worker's retries do.
const CONTENTION = /busy|locked|overloaded|internal error/i
const DELAYS_MS = [20, 50, 100, 200, 400, 800, 1600]
async function execute(env, statements, mode, column) {
  const prepared = statements.map((s) => env.DB.prepare(s.sql).bind(...s.params))
  if (mode === 'batch') return env.DB.batch(prepared)
  if (mode === 'first') return prepared[0].first(column)
  if (mode === 'all') return prepared[0].all()
  if (mode === 'raw') return prepared[0].raw()
  return prepared[0].run()
}
export default {
  async fetch(request, env) {
    const { statements, mode, column } = await request.json()
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await execute(env, statements, mode, column)
        return Response.json({ ok: true, result: result ?? null })
      } catch (e) {
        const message = String(e && e.message ? e.message : e)
        if (attempt < DELAYS_MS.length && CONTENTION.test(message)) {
          await new Promise((r) => setTimeout(r, DELAYS_MS[attempt]))
          continue
        }
        return Response.json({ ok: false, message })
      }
    }
  },
}
`

/** The host the sidecar answers on (a Miniflare route; never a real name). */
export const SQL_HOST = 'sql.keyrelay.test'

type Send = (body: unknown) => Promise<Response>
type Mode = 'first' | 'all' | 'raw' | 'run' | 'batch'

class Statement {
  constructor(
    private readonly send: Send,
    readonly sql: string,
    readonly params: unknown[] = [],
  ) {}

  bind(...params: unknown[]): Statement {
    return new Statement(this.send, this.sql, params)
  }

  first<T>(column?: string): Promise<T | null> {
    return call(this.send, 'first', [this], column)
  }

  all<T>(): Promise<D1Result<T>> {
    return call(this.send, 'all', [this])
  }

  raw<T>(): Promise<T[]> {
    return call(this.send, 'raw', [this])
  }

  run(): Promise<D1Result> {
    return call(this.send, 'run', [this])
  }
}

async function call<T>(send: Send, mode: Mode, statements: Statement[], column?: string): Promise<T> {
  const res = await send({
    mode,
    column,
    statements: statements.map((s) => ({ sql: s.sql, params: s.params })),
  })
  const answer = (await res.json()) as { ok: true; result: T } | { ok: false; message: string }
  if (!answer.ok) throw new Error(answer.message)
  return answer.result
}

/**
 * The part of D1Database the tests use (prepare, bind, first, all, raw, run, batch), typed as
 * D1Database so the same helpers serve the Worker's repositories' types.
 */
export function sqlClient(send: Send): D1Database {
  const client = {
    prepare: (sql: string) => new Statement(send, sql),
    batch: (statements: Statement[]) => call(send, 'batch', statements),
  }
  return client as unknown as D1Database
}
