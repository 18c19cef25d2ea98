import { describe, expect, test } from 'vitest'
import type { PoolRow } from '../db/rows'
import { poolRow } from './pool-row.fixture'
import { Pool } from './pool'

const row = poolRow

/**
 * A D1 whose pool load answers at once (keys 1 and 2) and whose refresh reads (`changedSince`) wait
 * until the test answers them, in order: a read can be left hanging, as one whose I/O the runtime
 * cancelled would.
 */
function fakeD1() {
  const reads: ((rows: PoolRow[]) => void)[] = []
  const d1 = {
    prepare: (sql: string) => ({
      bind: () => ({
        sql,
        all: () => new Promise((resolve) => reads.push((rows) => resolve({ results: rows, meta: {} }))),
      }),
    }),
    batch: () =>
      Promise.resolve([
        {
          results: [
            {
              keys: JSON.stringify([
                [1, 'sk-1'],
                [2, 'sk-2'],
              ]),
            },
          ],
          meta: {},
        },
        { results: [], meta: {} },
        { results: [{ maxSeq: 1 }], meta: {} },
      ]),
  }
  return { d1: d1 as unknown as D1Database, reads }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0))

async function loaded() {
  const { d1, reads } = fakeD1()
  const pool = new Pool(d1, 5_000, 'weighted', 2_000)
  const view = await pool.view('openai', () => undefined, 1_000)
  return { pool, view, reads }
}

describe('Pool refreshes', () => {
  test('each read is handed to the waitUntil of the request that started it', async () => {
    const { d1, reads } = fakeD1()
    const pool = new Pool(d1, 5_000, 'weighted', 2_000)
    const handed: Promise<unknown>[] = []
    const waitUntil = (p: Promise<unknown>) => void handed.push(p)

    await pool.view('openai', waitUntil, 1_000) // the load
    expect(handed).toHaveLength(1)

    const catchUp = pool.refreshIfOlder('openai', 0, waitUntil, 2_000)
    expect(handed).toHaveLength(2)
    await tick()
    reads.shift()!([])
    await catchUp
    await expect(handed[1]).resolves.toBeUndefined()

    // The interval's background refresh, started by a request served from the view it has.
    await pool.view('openai', waitUntil, 10_000)
    expect(handed).toHaveLength(3)
    await tick()
    reads.shift()!([])
    await handed[2]

    // A sync after this isolate's own admin change, which every request meanwhile waits for.
    pool.invalidate('openai')
    const synced = pool.view('openai', waitUntil, 11_000)
    await tick()
    expect(handed).toHaveLength(4)
    reads.shift()!([])
    await synced
  })

  test('a read that never settles is given up after 10 s: the next catch-up reads again', async () => {
    const { pool, view, reads } = await loaded()
    void pool.refreshIfOlder('openai', 0, () => undefined, 2_000)
    await tick()
    expect(reads).toHaveLength(1) // left hanging

    // Within 10 s, catch-ups wait for the read in flight rather than start another.
    void pool.refreshIfOlder('openai', 0, () => undefined, 11_999)
    await tick()
    expect(reads).toHaveLength(1)

    const again = pool.refreshIfOlder('openai', 0, () => undefined, 12_000)
    await tick()
    expect(reads).toHaveLength(2)
    reads[1]!([row(1, { cooldowns: '{"m":99999}', seq: 5 })])
    await again
    expect(view.maxSeq).toBe(5)
    expect(view.pick('m', 1_000, new Set())?.id).toBe(2)
  })

  test('a given-up read that settles late changes nothing newer', async () => {
    const { pool, view, reads } = await loaded()
    void pool.refreshIfOlder('openai', 0, () => undefined, 2_000)
    await tick()
    const newer = pool.refreshIfOlder('openai', 0, () => undefined, 12_000)
    await tick()
    // The newer read's rows, then the old read's (an older seq for key 1), then a third read in flight.
    reads[1]!([row(1, { status: 'blocked', seq: 6 })])
    await newer
    const third = pool.refreshIfOlder('openai', 0, () => undefined, 13_000)
    await tick()
    reads[0]!([row(1, { seq: 4 })])
    await tick()
    expect(view.activeCount).toBe(1) // key 1 stays blocked
    expect(view.refreshedAt).toBe(12_000) // not moved back to the old read's start
    // The late read did not clear the third one's place: a catch-up still waits for it.
    void pool.refreshIfOlder('openai', 0, () => undefined, 13_500)
    await tick()
    expect(reads).toHaveLength(3)
    reads[2]!([])
    await third
    expect(view.refreshedAt).toBe(13_000)
  })
})
