import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { MockGateway } from './gateway/mock-gateway'
import { replies } from './gateway/replies'
import { cooldownsOf, startWorker, type Harness } from './harness'
import { adminHeaders, freshKeys, GEMINI_PATH, googleInit, googleKey, openaiInit, openaiKey } from './helpers'

// Smarter rotation (issue 16), through the Worker: rate-limit headers, key groups, tiers, weights.
let h: Harness
beforeAll(async () => {
  h = await startWorker()
})
afterAll(() => h.dispose())
beforeEach(async () => {
  h.gateway.reset()
  await h.clearKeys()
})

const add = (body: object) =>
  h.fetch('/admin/api/keys', { method: 'POST', headers: adminHeaders(), body: JSON.stringify(body) })
const chat = () => h.fetch('/api/openai/chat/completions', openaiInit('gpt-4o-mini'))
const spentAfter = (reset: string) => () =>
  new Response(replies.openaiOk().body, {
    headers: {
      'content-type': 'application/json',
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': reset,
    },
  })

describe('rotating before the 429', () => {
  test('a key whose answer says it has no requests left is not used until its reset; a short reset stays in the isolate', async () => {
    const [spent, other] = freshKeys(openaiKey, 2)
    const [spentId] = await h.addKeys('openai', [spent!, other!])
    h.gateway.on(spent!, spentAfter('8s'))
    for (let i = 0; i < 6; i++) expect((await chat()).status).toBe(200)
    expect(h.gateway.callsFor(spent!)).toBe(1)
    // Seconds away: other isolates would learn it as fast from their own answer; no D1 write.
    expect(await cooldownsOf(h.d1, spentId!)).toEqual({})
  })

  test('a long reset is written to D1 for every isolate, without holding up the answer', async () => {
    const [spent, other] = freshKeys(openaiKey, 2)
    const [spentId] = await h.addKeys('openai', [spent!, other!])
    h.gateway.on(spent!, spentAfter('6m0s'))
    for (let i = 0; i < 4; i++) expect((await chat()).status).toBe(200)
    expect(h.gateway.callsFor(spent!)).toBe(1)
    await expect
      .poll(async () => (await cooldownsOf(h.d1, spentId!))['gpt-4o-mini'] ?? 0)
      .toBeGreaterThan(Date.now() / 1000 + 350)
  })
})

describe('key groups', () => {
  test("a daily-quota 429 cools every key of the key's group at once, in D1; other keys keep serving", async () => {
    const [a1, a2, b1, loose] = freshKeys(googleKey, 4)
    const group = async (keys: string[], name?: string) =>
      (
        (await (
          await add({ provider: 'google-ai-studio', keys, ...(name ? { group: name } : {}) })
        ).json()) as { ids: number[] }
      ).ids
    const [a1Id, a2Id] = await group([a1!, a2!], 'project-a')
    const [b1Id] = await group([b1!], 'project-b')
    const [looseId] = await group([loose!])
    for (const k of [a1!, a2!]) h.gateway.on(k, () => replies.googleDaily429())
    for (let i = 0; i < 6; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    // One of the group answered the 429; its sibling was never asked.
    expect(h.gateway.callsFor(a1!) + h.gateway.callsFor(a2!)).toBe(1)
    const a1Until = (await cooldownsOf(h.d1, a1Id!))['gemini-2.5-flash']!
    expect(a1Until).toBeGreaterThan(Date.now() / 1000 + 120)
    expect((await cooldownsOf(h.d1, a2Id!))['gemini-2.5-flash']).toBe(a1Until)
    expect(await cooldownsOf(h.d1, b1Id!)).toEqual({})
    expect(await cooldownsOf(h.d1, looseId!)).toEqual({})
    await expect
      .poll(() => h.logs.some((l) => l.includes('"event":"group_cooled"') && l.includes('"keys":2')))
      .toBe(true)
  })

  test('groups, weights and tiers are set on add, edited one by one or in bulk, and filter the listing', async () => {
    const [k1, k2, k3] = freshKeys(openaiKey, 3)
    const { ids } = (await (
      await add({ provider: 'openai', keys: [k1, k2], group: 'acct-1', weight: 5, tier: 1 })
    ).json()) as { ids: number[] }
    await h.addKeys('openai', [k3!])
    const list = async (q = '') =>
      (
        (await (
          await h.fetch(`/admin/api/keys?provider=openai${q}`, { headers: adminHeaders() })
        ).json()) as {
          keys: { id: number; group: string | null; weight: number; tier: number }[]
        }
      ).keys
    expect((await list('&group=acct-1')).map((k) => [k.group, k.weight, k.tier])).toEqual([
      ['acct-1', 5, 1],
      ['acct-1', 5, 1],
    ])
    await h.fetch(`/admin/api/keys/${ids[0]}`, {
      method: 'PATCH',
      headers: adminHeaders(),
      body: JSON.stringify({ group: null, weight: 2 }),
    })
    await h.fetch('/admin/api/keys', {
      method: 'PATCH',
      headers: adminHeaders(),
      body: JSON.stringify({ ids, tier: 0 }),
    })
    const all = await list()
    expect(all.find((k) => k.id === ids[0])).toMatchObject({ group: null, weight: 2, tier: 0 })
    expect(all.find((k) => k.id === ids[1])).toMatchObject({ group: 'acct-1', weight: 5, tier: 0 })
    const bad = await h.fetch(`/admin/api/keys/${ids[0]}`, {
      method: 'PATCH',
      headers: adminHeaders(),
      body: JSON.stringify({ tier: 12 }),
    })
    expect(bad.status).toBe(400)
  })
})

describe('tiers and weights in traffic', () => {
  test('paid keys (tier 1) get no traffic while a free key (tier 0) can serve, and all of it once none can', async () => {
    const [free, paid] = freshKeys(openaiKey, 2)
    await add({ provider: 'openai', keys: [free] })
    await add({ provider: 'openai', keys: [paid], tier: 1 })
    for (let i = 0; i < 5; i++) expect((await chat()).status).toBe(200)
    expect(h.gateway.callsFor(paid!)).toBe(0)
    h.gateway.on(free!, () => replies.openaiRateLimit({ 'retry-after': '60' }))
    for (let i = 0; i < 3; i++) expect((await chat()).status).toBe(200)
    expect(h.gateway.callsFor(paid!)).toBe(3)
  })

  test('a free key that just failed transiently is still tried before a paid key', async () => {
    const [free, paid] = freshKeys(openaiKey, 2)
    await add({ provider: 'openai', keys: [free] })
    await add({ provider: 'openai', keys: [paid], tier: 1 })
    h.gateway.on(free!, () => replies.googleOverloaded())
    expect((await chat()).status).toBe(200) // the free key's 503, then the paid key
    expect(h.gateway.callsFor(paid!)).toBe(1)
    // The free key is in doubt for a few seconds, but it is still the free one: it comes first.
    h.gateway.on(free!, () => replies.openaiOk())
    for (let i = 0; i < 3; i++) expect((await chat()).status).toBe(200)
    expect(h.gateway.callsFor(free!)).toBe(4)
    expect(h.gateway.callsFor(paid!)).toBe(1)
  })

  test("operator weights share an isolate's traffic in proportion (measured latency aside)", async () => {
    // SELECTION=uniform leaves the operator's weights alone in charge: on a loaded machine the
    // mock's jitter moves measured latency enough to shift several picks (weights times measured
    // health are tested exactly in pool/view.test.ts).
    const w = await startWorker({ vars: { SELECTION: 'uniform' } })
    try {
      const [heavy, light] = freshKeys(openaiKey, 2)
      const res = await w.fetch('/admin/api/keys', {
        method: 'POST',
        headers: adminHeaders(),
        body: JSON.stringify({ provider: 'openai', keys: [heavy], weight: 3 }),
      })
      expect(res.status).toBe(200)
      await w.addKeys('openai', [light!])
      for (let i = 0; i < 40; i++)
        expect((await w.fetch('/api/openai/chat/completions', openaiInit('gpt-4o-mini'))).status).toBe(200)
      expect(w.gateway.callsFor(heavy!)).toBe(30)
      expect(w.gateway.callsFor(light!)).toBe(10)
    } finally {
      await w.dispose()
    }
  })

  test('a key much slower than its peers gets a small share of the traffic', async () => {
    const keys = freshKeys(openaiKey, 4)
    await h.addKeys('openai', keys)
    h.gateway.on(keys[0]!, () => new Promise((r) => setTimeout(() => r(replies.openaiOk()), 150)))
    for (let i = 0; i < 80; i++) expect((await chat()).status).toBe(200)
    // Each key is tried once before anything is known; after that the slow one is rarely picked.
    expect(h.gateway.callsFor(keys[0]!)).toBeLessThanOrEqual(6)
  })
})

test('keys that answer 429 at once may use up to twice MAX_ATTEMPTS, so a request does not fail while a good key waits', async () => {
  const w = await startWorker({ vars: { MAX_ATTEMPTS: '1' } })
  try {
    // Each round a fresh pair, one limited: whichever the shuffled ring offers first, the request succeeds.
    for (let round = 0; round < 8; round++) {
      await w.clearKeys()
      const [limited, good] = freshKeys(openaiKey, 2)
      await w.addKeys('openai', [limited!, good!])
      w.gateway.on(limited!, () => replies.openaiRateLimit({ 'retry-after': '60' }))
      const res = await w.fetch('/api/openai/chat/completions', openaiInit('gpt-4o-mini'))
      expect(res.status, `round ${round}`).toBe(200)
    }
    // A transient failure still counts in full: one attempt with MAX_ATTEMPTS=1.
    await w.clearKeys()
    const [down, good] = freshKeys(openaiKey, 2)
    await w.addKeys('openai', [down!, good!])
    w.gateway.reset()
    w.gateway.on(down!, () => replies.googleOverloaded()).on(good!, () => replies.googleOverloaded())
    await w.fetch('/api/openai/chat/completions', openaiInit('gpt-4o-mini'))
    expect(w.gateway.requests).toHaveLength(1)
  } finally {
    await w.dispose()
  }
})

test('in a storm, an isolate leans on keys that just answered until other lessons arrive (STORM_SECONDS)', async () => {
  // 40 keys, 10 of them out of their per-minute quota: requests right after the first 429s.
  const run = async (storm: string) => {
    const w = await startWorker({ vars: { STORM_SECONDS: storm } })
    try {
      const keys = freshKeys(googleKey, 40)
      await w.addKeys('google-ai-studio', keys)
      const limited = new Set(keys.slice(0, 10))
      for (const k of limited) w.gateway.on(k, () => replies.googleMinute429())
      for (let i = 0; i < 50; i++) expect((await w.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
      return w.gateway.requests.filter((r) => limited.has(r.key ?? '')).length
    } finally {
      await w.dispose()
    }
  }
  // Plain rotation walks into every limited key within 50 requests; steered, about 3 to 6 of them
  // (the others are left for the storm's end, or for other isolates to find and share through D1).
  const plain = await run('0')
  const steered = await run('2')
  expect(plain).toBe(10)
  expect(steered).toBeLessThanOrEqual(8)
})

test("in a storm, before gambling on a key it has not heard from, an isolate reads other isolates' lessons", async () => {
  // Two isolates on one D1. A is in a storm (it met a limited key) and has read D1 since; then B
  // finds X limited. A's next gamble on X (a key it has not heard from since its storm began) must
  // read B's lesson first instead of spending a 429 on it. No periodic refresh gets in the way.
  const dir = mkdtempSync(join(tmpdir(), 'keyrelay-gamble-'))
  const vars = { STORM_SECONDS: '30', POOL_REFRESH_SECONDS: '600' }
  const gwA = new MockGateway()
  const gwB = new MockGateway()
  const a = await startWorker({ d1Persist: dir, gateway: gwA, vars })
  const b = await startWorker({ d1Persist: dir, gateway: gwB, vars, applyMigrations: false })
  try {
    const [limited, good, x] = freshKeys(googleKey, 3)
    await a.addKeys('google-ai-studio', [limited!, good!])
    gwA.on(limited!, () => replies.googleMinute429()).on(x!, () => replies.googleMinute429())
    gwB.on(x!, () => replies.googleMinute429())
    const viaA = () => a.fetch(GEMINI_PATH, googleInit())
    while (gwA.callsFor(limited!) === 0) expect((await viaA()).status).toBe(200)
    // A's storm is on. X arrives (A reads it at once: the add was A's own), and A spends its one
    // nudged refresh a second later, before B learns anything.
    await a.addKeys('google-ai-studio', [x!])
    await new Promise((r) => setTimeout(r, 1100))
    expect((await viaA()).status).toBe(200)
    for (let i = 0; i < 50 && gwB.callsFor(x!) === 0; i++)
      expect((await b.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    expect(gwB.callsFor(x!)).toBe(1)
    // Plain storm steering would give X about one pick in 51 here, so A would meet X itself.
    for (let i = 0; i < 120; i++) expect((await viaA()).status).toBe(200)
    expect(gwA.callsFor(x!)).toBe(0)
  } finally {
    await Promise.all([a.dispose(), b.dispose()])
    rmSync(dir, { recursive: true, force: true })
  }
})
