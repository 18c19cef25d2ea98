import { describe, expect, test } from 'vitest'
import type { PoolRow } from '../db/rows'
import { ProviderView } from './view'

const row = (id: number, over: Partial<PoolRow> = {}): PoolRow => ({
  id,
  provider: 'openai',
  key: `sk-${id}`,
  status: 'active',
  cooldowns: '{}',
  seq: 1,
  keyGroup: null,
  weight: 1,
  tier: 0,
  ...over,
})

describe('ProviderView', () => {
  test('spreads picks evenly over every eligible key', () => {
    const view = new ProviderView(
      [1, 2, 3, 4, 5].map((i) => row(i)),
      1,
      0,
    )
    const counts = new Map<number, number>()
    for (let i = 0; i < 500; i++) {
      const k = view.pick('m', 0, new Set())!
      counts.set(k.id, (counts.get(k.id) ?? 0) + 1)
    }
    expect([...counts.values()]).toEqual([100, 100, 100, 100, 100])
    expect(counts.size).toBe(5)
  })

  test('with two keys, picks strictly alternate (nothing else moves the cursor)', () => {
    const view = new ProviderView([row(1), row(2)], 1, 0)
    const picks = Array.from({ length: 6 }, () => view.pick('m', 0, new Set())!.id)
    for (let i = 1; i < picks.length; i++) expect(picks[i]).not.toBe(picks[i - 1])
  })

  test('skips keys cooling for the model, or for every model, and keys already tried', () => {
    const view = new ProviderView(
      [
        row(1, { cooldowns: '{"m":200}' }),
        row(2, { cooldowns: '{"*":200}' }),
        row(3),
        row(4, { cooldowns: '{"other":200}' }),
      ],
      1,
      0,
    )
    const picked = new Set<number>()
    for (let i = 0; i < 10; i++) picked.add(view.pick('m', 100, new Set([3]))!.id)
    expect([...picked]).toEqual([4])
    expect(view.soonestAvailable('m', 100)).toBe(200)
    // Once the cooldown is over the keys come back.
    const back = new Set([1, 2].map(() => view.pick('m', 201, new Set([3, 4]))?.id))
    expect([...back].sort()).toEqual([1, 2])
  })

  test('a row older than the one held is ignored (a refresh racing our own write)', () => {
    const view = new ProviderView([row(1, { seq: 5 })], 5, 0)
    view.applyRows([row(1, { status: 'blocked', seq: 7 })])
    view.applyRows([row(1, { status: 'active', seq: 6 })])
    expect(view.activeCount).toBe(0)
    expect(view.blockedCount).toBe(1)
    view.applyRows([row(1, { status: 'active', seq: 8 })])
    expect(view.activeCount).toBe(1)
  })

  test('a key that just failed transiently is tried last, not excluded', () => {
    const view = new ProviderView([row(1), row(2), row(3)], 1, 0)
    view.markShaky(2, 100)
    const picks = Array.from({ length: 6 }, () => view.pick('m', 50, new Set())!.id)
    expect(picks).not.toContain(2)
    expect(view.pick('m', 50, new Set([1, 3]))?.id).toBe(2)
    expect(Array.from({ length: 6 }, () => view.pick('m', 101, new Set())!.id)).toContain(2)
  })

  test('a corrupt cooldown map does not take a key out of rotation', () => {
    const view = new ProviderView([row(1, { cooldowns: 'not json' })], 1, 0)
    expect(view.pick('m', 0, new Set())?.id).toBe(1)
  })
})
