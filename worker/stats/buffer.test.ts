import { describe, expect, test } from 'vitest'
import { StatsBuffer } from './buffer'

/** A D1 stand-in that fails the next batches with the given errors, then records what it is sent. */
function fakeD1(failures: Error[]) {
  const written: unknown[][][] = []
  const statement = (sql: string) => ({ bind: (...args: unknown[]) => ({ sql, args }) })
  const d1 = {
    prepare: statement,
    async batch(statements: { args: unknown[] }[]) {
      const failure = failures.shift()
      if (failure) throw failure
      written.push(statements.map((s) => s.args))
      return statements.map(() => ({ meta: { rows_read: 0, rows_written: 1 } }))
    },
  }
  return { d1: d1 as unknown as D1Database, written }
}

const event = (keyId: number) => ({
  keyId,
  provider: 'openai',
  model: 'gpt-4o-mini',
  outcome: 'success' as const,
})
const entries = (written: unknown[][][]) =>
  written.flatMap((batch) => batch.flatMap((args) => JSON.parse(String(args[1])) as unknown[][]))

describe('StatsBuffer', () => {
  test('counts D1 refuses for their content are dropped, so they cannot block every later flush', async () => {
    const { d1, written } = fakeD1([new Error('D1_ERROR: string or blob too big: SQLITE_TOOBIG')])
    const buffer = new StatsBuffer(d1, 1000)
    buffer.record(event(1))
    await buffer.flush()
    buffer.record(event(2))
    await buffer.flush()
    expect(entries(written).map((e) => e[0])).toEqual([2])
  })

  test('counts that met a busy D1 are kept and carried by the next flush', async () => {
    const { d1, written } = fakeD1([new Error('D1 DB is overloaded. Requests queued for too long.')])
    const buffer = new StatsBuffer(d1, 1000)
    buffer.record(event(1))
    await buffer.flush()
    buffer.record(event(2))
    await buffer.flush()
    expect(
      entries(written)
        .map((e) => e[0])
        .sort(),
    ).toEqual([1, 2])
  })
})
