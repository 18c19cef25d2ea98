import { describe, expect, test } from 'vitest'
import { poolRow } from './pool-row.fixture'
import { ProviderView } from './view'

const row = poolRow

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

describe('weights, tiers and measured health', () => {
  const picks = (view: ProviderView, n: number, model = 'm', now = 0) => {
    const counts = new Map<number, number>()
    for (let i = 0; i < n; i++) {
      const id = view.pick(model, now, new Set())!.id
      counts.set(id, (counts.get(id) ?? 0) + 1)
    }
    return counts
  }

  test('operator weights are exact shares among the keys of a tier', () => {
    const view = new ProviderView([row(1, { weight: 3 }), row(2, { weight: 1 }), row(3, { weight: 4 })], 1, 0)
    expect(Object.fromEntries(picks(view, 800))).toEqual({ 1: 300, 2: 100, 3: 400 })
  })

  test('a group shares one quota: its keys together serve what one key does, every project evenly', () => {
    // Project A has four keys, B and C one each: each project gets a third, not A two thirds.
    const view = new ProviderView(
      [...[1, 2, 3, 4].map((i) => row(i, { keyGroup: 'proj-a' })), row(5, { keyGroup: 'proj-b' }), row(6)],
      1,
      0,
    )
    const counts = picks(view, 600)
    expect([1, 2, 3, 4].reduce((n, id) => n + (counts.get(id) ?? 0), 0)).toBe(200)
    expect(counts.get(5)).toBe(200)
    expect(counts.get(6)).toBe(200)
    // Within the group, evenly.
    for (const id of [1, 2, 3, 4]) expect(counts.get(id)).toBe(50)
    // A key leaving the group gives the others its part of the share.
    view.applyRows([{ ...row(4, { keyGroup: null }), seq: 2 }])
    const after = picks(view, 800)
    expect([1, 2, 3].reduce((n, id) => n + (after.get(id) ?? 0), 0)).toBe(200)
    expect(after.get(4)).toBe(200)
  })

  test('a tier-1 key serves only when no tier-0 key can serve the model', () => {
    const view = new ProviderView([row(1), row(2), row(3, { tier: 1 })], 1, 0)
    expect(picks(view, 50).get(3)).toBeUndefined()
    view.applyLocalCooldown(1, 'm', 100)
    view.applyLocalCooldown(2, 'm', 100)
    expect(Object.fromEntries(picks(view, 5, 'm', 50))).toEqual({ 3: 5 })
    // Another model is still served by tier 0.
    expect(picks(view, 10, 'other', 50).get(3)).toBeUndefined()
  })

  test('a key ten times slower than its peers gets a small share; SELECTION=uniform ignores it', () => {
    const rows = [1, 2, 3, 4, 5].map((i) => row(i))
    const weighted = new ProviderView(rows, 1, 0)
    const uniform = new ProviderView(rows, 1, 0, 'uniform')
    for (const view of [weighted, uniform]) {
      for (const id of [1, 2, 3, 4]) view.health.record(id, { latencyMs: 200 })
      view.health.record(5, { latencyMs: 2000 })
    }
    expect((picks(weighted, 1000).get(5) ?? 0) / 1000).toBeLessThan(0.05)
    expect(picks(weighted, 1000).get(5)).toBeGreaterThan(0) // still tried now and then
    expect(picks(uniform, 1000).get(5)).toBe(200)
  })

  test('transient failures lower a key’s share; it recovers as it answers again', () => {
    const view = new ProviderView([row(1), row(2)], 1, 0)
    for (let i = 0; i < 10; i++) view.health.record(2, { failed: true })
    view.health.record(1, { latencyMs: 100 })
    expect(picks(view, 100).get(2) ?? 0).toBeLessThan(25)
    for (let i = 0; i < 30; i++) view.health.record(2, { latencyMs: 100 })
    expect(picks(view, 100).get(2)).toBe(50)
  })

  test('a group cooldown reaches every key of the group, and only them', () => {
    const view = new ProviderView(
      [
        row(1, { keyGroup: 'proj-a' }),
        row(2, { keyGroup: 'proj-a' }),
        row(3, { keyGroup: 'proj-b' }),
        row(4),
      ],
      1,
      0,
    )
    view.applyLocalGroupCooldown(1, 'm', 100)
    expect([...picks(view, 10, 'm', 50).keys()].sort()).toEqual([3, 4])
  })

  test('in a storm, keys that answered since it began carry the traffic; the others keep a little', () => {
    const rows = Array.from({ length: 10 }, (_, i) => row(i + 1))
    const start = 1_000_000 // ms
    const storm = (selection: 'weighted' | 'uniform', stormMs = 2000) => {
      const view = new ProviderView(rows, 1, 0, selection, stormMs)
      // Keys 1 and 2 answered before the storm, keys 3 and 4 after its first 429.
      for (const id of [1, 2]) view.health.record(id, { latencyMs: 100 }, start - 1000)
      view.verdict(start)
      for (const id of [3, 4]) view.health.record(id, { latencyMs: 100 }, start + 100)
      return view
    }
    const view = storm('weighted')
    const during = picks(view, 1000, 'm', (start + 200) / 1000)
    expect((during.get(3) ?? 0) + (during.get(4) ?? 0)).toBeGreaterThan(850)
    // Every other key, including the two that answered before the storm, is still tried.
    for (const id of [1, 2, 5, 6, 7, 8, 9, 10]) {
      expect(during.get(id) ?? 0).toBeGreaterThan(0)
      expect(during.get(id) ?? 0).toBeLessThan(30)
    }
    // A later verdict extends the storm without moving its start: 3 and 4 still carry it.
    view.verdict(start + 1500)
    expect(picks(view, 100, 'm', (start + 3000) / 1000).get(3) ?? 0).toBeGreaterThan(40)
    // Two seconds after the last verdict the storm is over: even shares again.
    expect([...picks(view, 1000, 'm', (start + 3501) / 1000).values()]).toEqual(Array(10).fill(100))
    // SELECTION=uniform, or STORM_SECONDS=0: no steering at all.
    for (const off of [storm('uniform'), storm('weighted', 0)]) {
      expect([...picks(off, 1000, 'm', (start + 200) / 1000).values()]).toEqual(Array(10).fill(100))
    }
  })

  test('a gamble is a key not heard from since the storm began, and only during the storm', () => {
    const start = 1_000_000 // ms
    const make = (selection: 'weighted' | 'uniform', stormMs = 2000) => {
      const view = new ProviderView([row(1), row(2), row(3)], 1, 0, selection, stormMs)
      view.health.record(1, { latencyMs: 100 }, start - 1000) // answered before the storm
      view.verdict(start)
      view.health.record(2, { latencyMs: 100 }, start + 100) // answered since
      return view
    }
    const view = make('weighted')
    const key = (id: number) => view.pick('m', 0, new Set([1, 2, 3].filter((i) => i !== id)))!
    const gambles = (v: ProviderView, at: number) => [1, 2, 3].filter((id) => v.unproven(key(id), at))
    expect(gambles(view, start + 200)).toEqual([1, 3])
    expect(gambles(view, start + 2000)).toEqual([]) // the storm is over
    // Off with storm steering: no reads before picks.
    expect(gambles(make('uniform'), start + 200)).toEqual([])
    expect(gambles(make('weighted', 0), start + 200)).toEqual([])
  })

  test('a key another request is gambling on is picked only when nothing else is eligible', () => {
    const view = new ProviderView([row(1), row(2), row(3)], 1, 0, 'weighted', 2000)
    view.verdict(Date.now()) // a storm: none of the three has answered since
    const release = view.gamble(2)
    const held = view.gamble(2) // a second request gambling on it too: both must release
    const seen = new Set(Array.from({ length: 30 }, () => view.pick('m', 0, new Set())!.id))
    expect([...seen].sort()).toEqual([1, 3])
    // With 1 and 3 ruled out, the gambled key is still served rather than nothing.
    expect(view.pick('m', 0, new Set([1, 3]))?.id).toBe(2)
    release()
    expect(new Set(Array.from({ length: 30 }, () => view.pick('m', 0, new Set())!.id)).has(2)).toBe(false)
    held()
    expect(new Set(Array.from({ length: 30 }, () => view.pick('m', 0, new Set())!.id)).has(2)).toBe(true)
  })

  test('while a request gambles, a key that answered since the storm began comes before another gamble', () => {
    const start = Date.now()
    const view = new ProviderView(
      [row(1), row(2), row(3), row(4), row(5, { tier: 1 })],
      1,
      0,
      'weighted',
      2000,
    )
    view.verdict(start)
    for (const id of [1, 5]) view.health.record(id, { latencyMs: 100 }, start + 1) // answered since
    const now = (start + 100) / 1000
    const picked = (exclude: number[], n = 300) =>
      new Set(Array.from({ length: n }, () => view.pick('m', now, new Set(exclude))!.id))
    // No gamble out: the keys not heard from keep their small share.
    expect([...picked([])].some((id) => [2, 3, 4].includes(id))).toBe(true)
    const release = view.gamble(2)
    expect([...picked([])]).toEqual([1])
    // With key 1 ruled out, another gamble in the same tier rather than the tier-1 key or key 2.
    expect([...picked([1], 60)].sort()).toEqual([3, 4])
    release()
    expect([...picked([])].some((id) => [2, 3, 4].includes(id))).toBe(true)
  })

  test('a tier-0 key in doubt is still picked before any tier-1 key', () => {
    const view = new ProviderView([row(1), row(2, { tier: 1 })], 1, 0)
    view.markShaky(1, 100)
    expect(view.pick('m', 50, new Set())?.id).toBe(1)
    view.verdict(Date.now())
    const release = view.gamble(1)
    expect(view.pick('m', 50, new Set())?.id).toBe(1)
    release()
    expect(view.pick('m', 50, new Set([1]))?.id).toBe(2)
  })

  test('usable: still active and not cooling for the model, as the view now holds it', () => {
    const view = new ProviderView([row(1), row(2)], 1, 0)
    const one = view.pick('m', 0, new Set([2]))!
    expect(view.usable(one, 'm', 10)).toBe(true)
    view.applyLocalCooldown(1, 'm', 20)
    expect(view.usable(one, 'm', 10)).toBe(false)
    expect(view.usable(one, 'other', 10)).toBe(true)
    expect(view.usable(one, 'm', 20)).toBe(true) // the cooldown ran out
    view.applyLocalBlock(1)
    expect(view.usable(one, 'other', 10)).toBe(false)
  })
})

describe('a conversation on one key (rendezvous)', () => {
  const hash = (s: string) => {
    let h = 0x811c9dc5
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
    return h >>> 0
  }
  const conversations = Array.from({ length: 6000 }, (_, i) => hash(`conv-${i}`))

  test('conversations spread over keys in proportion to weight and group share', () => {
    // Key 1 weighs 2, keys 3 and 4 share a group: shares 2 : 1 : ½ : ½.
    const view = new ProviderView(
      [row(1, { weight: 2 }), row(2), row(3, { keyGroup: 'g' }), row(4, { keyGroup: 'g' })],
      1,
      0,
    )
    const counts = new Map<number, number>()
    for (const c of conversations) {
      const id = view.pick('m', 0, new Set(), c)!.id
      counts.set(id, (counts.get(id) ?? 0) + 1)
    }
    const share = (id: number) => (counts.get(id) ?? 0) / conversations.length
    expect(share(1)).toBeCloseTo(0.5, 1)
    expect(share(2)).toBeCloseTo(0.25, 1)
    expect(share(3)).toBeCloseTo(0.125, 1)
    expect(share(4)).toBeCloseTo(0.125, 1)
  })

  test('a key that stops serving moves only its own conversations; the same pick in every view', () => {
    const rows = Array.from({ length: 10 }, (_, i) => row(i + 1))
    const one = new ProviderView(rows, 1, 0)
    const other = new ProviderView(rows, 1, 0)
    const before = conversations.map((c) => one.pick('m', 0, new Set(), c)!.id)
    // Another isolate, with its own ring order and cursors, picks the same keys.
    expect(conversations.map((c) => other.pick('m', 0, new Set(), c)!.id)).toEqual(before)
    one.applyLocalCooldown(3, 'm', 100)
    const after = conversations.map((c) => one.pick('m', 0, new Set(), c)!.id)
    for (const [i, id] of before.entries()) {
      if (id === 3) expect(after[i]).not.toBe(3)
      else expect(after[i]).toBe(id)
    }
  })
})
