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
export default {
  async fetch(request, env) {
    const { statements, mode, column } = await request.json()
    try {
      const prepared = statements.map((s) => env.DB.prepare(s.sql).bind(...s.params))
      let result
      if (mode === 'batch') result = await env.DB.batch(prepared)
      else if (mode === 'first') result = await prepared[0].first(column)
      else if (mode === 'all') result = await prepared[0].all()
      else if (mode === 'raw') result = await prepared[0].raw()
      else result = await prepared[0].run()
      return Response.json({ ok: true, result: result ?? null })
    } catch (e) {
      return Response.json({ ok: false, message: String(e && e.message ? e.message : e) })
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
