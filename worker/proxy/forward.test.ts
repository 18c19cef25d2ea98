import { afterEach, expect, test, vi } from 'vitest'
import { openaiRateLimit } from '../../test/gateway/fixtures'
import type { Config } from '../config'
import type { ModelName } from '../db/cooldowns'
import { Vault } from '../db/vault'
import type { KeyState } from '../pool/key-state'
import { ProviderView } from '../pool/view'
import { PROVIDERS } from '../providers/registry'
import { forward } from './forward'
import type { ForwardInput, Route } from './route'
import { upstreamConfig } from './upstream-config.fixture'
import { poolRow } from '../pool/pool-row.fixture'

// What the Worker tests cannot stage: locally D1 answers on the Worker's own thread, so a slow
// catch-up read would stall every request, not just the one that waits for it.

afterEach(() => vi.unstubAllGlobals())

const config = {
  ...upstreamConfig,
  maxAttempts: 3,
  vault: new Vault('forward-test-encryption-key-0123456789'),
} as Config

const route: Route = {
  provider: 'openai',
  adapter: PROVIDERS.openai,
  model: 'gpt-4o-mini' as ModelName, // as the model reader brands a checked name
  url: 'http://gateway.test/openai/chat/completions',
  method: 'POST',
  headers: new Headers({ 'content-type': 'application/json' }),
  body: null,
  metadata: {},
  quiet: false,
  affinity: undefined,
}

// Stored unsealed: the vault opens it as is.
const row = (id: number) => poolRow(id, { key: `sk-proj-forward-test-${id}` })

/** The attempts loop's input around a real view; `keys` does KeyState's first step only. */
function inputFor(view: ProviderView, catchUp: ForwardInput['catchUp']): ForwardInput {
  // KeyState's first step, before its D1 write: the isolate's view takes the cooldown.
  const keys = {
    coolDown: async (_provider: string, id: number, scope: string, until: number) => {
      view.applyLocalCooldown(id, scope, until)
      return true
    },
  } as unknown as KeyState
  return {
    config,
    route,
    keys,
    view,
    stats: { record: () => {}, recordBlock: () => {} },
    tokens: () => {},
    background: () => {},
    alerts: { emit: async () => {} } as unknown as ForwardInput['alerts'],
    catchUp,
    prove: async () => undefined,
  }
}

/** The stand-in gateway: the first key called answers 429 from then on, every other one serves. */
function firstKeyLimited(): { calls: Map<string, number>; limited: () => string | undefined } {
  const calls = new Map<string, number>()
  let limited: string | undefined
  vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
    const key = new Headers(init.headers).get('authorization') ?? ''
    calls.set(key, (calls.get(key) ?? 0) + 1)
    limited ??= key
    return key === limited
      ? new Response(openaiRateLimit, { status: 429, headers: { 'content-type': 'application/json' } })
      : Response.json({ choices: [] })
  })
  return { calls, limited: () => limited }
}

/** A D1 read that never comes back, counted. */
function stalledReads() {
  const reads = { count: 0 }
  const catchUp = () => {
    reads.count++
    return new Promise<void>(() => {})
  }
  return { reads, catchUp }
}

test('a key that answered 429 is out of rotation while its request waits to catch up with D1', async () => {
  // Two keys, which plain rotation alternates.
  const { calls, limited } = firstKeyLimited()
  const view = new ProviderView([row(1), row(2)], 1, 0)
  let waiting = false
  const first = forward(
    inputFor(view, () => {
      waiting = true
      return new Promise<void>(() => {})
    }),
  )
  while (!waiting) await new Promise((r) => setTimeout(r, 1))
  // The 429's request is reading D1; two more requests pick meanwhile (the second would be the
  // limited key's turn).
  for (let i = 0; i < 2; i++) expect((await forward(inputFor(view, async () => {}))).status).toBe(200)
  expect(calls.get(limited()!)).toBe(1)
  expect((await first).status).toBe(200)
  expect(calls.get(limited()!)).toBe(1)
})

test("after a 429 the read of other isolates' lessons is waited for only so long", async () => {
  firstKeyLimited()
  const { reads, catchUp } = stalledReads()
  const started = Date.now()
  expect((await forward(inputFor(new ProviderView([row(1), row(2)], 1, 0), catchUp))).status).toBe(200)
  expect(reads.count).toBe(1)
  expect(Date.now() - started).toBeLessThan(5000)
})

test("a gamble waits for the read of other isolates' lessons only so long; then it goes ahead", async () => {
  vi.stubGlobal('fetch', async () => Response.json({ choices: [] }))
  // A storm is on and the only key has not answered since it began: picking it is a gamble.
  const view = new ProviderView([row(1)], 1, 0, 'weighted', 60_000)
  view.verdict(Date.now())
  const { reads, catchUp } = stalledReads()
  const started = Date.now()
  expect((await forward(inputFor(view, catchUp))).status).toBe(200)
  expect(reads.count).toBe(1)
  expect(Date.now() - started).toBeLessThan(5000)
})

test('a storm begins when the limited attempt was sent: a key that answered meanwhile is proven', async () => {
  // The first key called answers 429 late (30 ms); the others serve at once.
  const order: number[] = []
  vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
    const id = Number((new Headers(init.headers).get('authorization') ?? '').split('-').pop())
    order.push(id)
    if (id !== order[0]) return Response.json({ choices: [] })
    await new Promise((r) => setTimeout(r, 30))
    return new Response(openaiRateLimit, { status: 429, headers: { 'content-type': 'application/json' } })
  })
  const ids = [1, 2, 3]
  const view = new ProviderView(ids.map(row), 1, 0, 'weighted', 60_000)
  // The keys themselves, for asking the view about them (a pick with one key eligible moves no credit).
  const keyOf = new Map(ids.map((id) => [id, view.pick('m', 0, new Set(ids.filter((i) => i !== id)))!]))
  // Which keys are gambles once the 429 is in (its request reads D1 before its retry).
  let gambles: number[] | undefined
  const catchUp = async () => void (gambles ??= ids.filter((id) => view.unproven(keyOf.get(id)!, Date.now())))
  // The second request goes out while the first waits for its 429.
  const first = forward(inputFor(view, catchUp))
  expect((await forward(inputFor(view, catchUp))).status).toBe(200)
  expect((await first).status).toBe(200)
  const [limited, served] = order
  // The key that answered after the limited one was asked is the safe bet in the storm its 429
  // began; the limited key and the one not heard from are gambles.
  expect(gambles).toEqual(ids.filter((id) => id !== served))
  expect(gambles).toContain(limited)
})

test('a spent budget long enough to share is a limit met: it starts a storm in the isolate', async () => {
  const called: number[] = []
  vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
    called.push(Number((new Headers(init.headers).get('authorization') ?? '').split('-').pop()))
    return Response.json(
      { choices: [] },
      { headers: { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '57s' } },
    )
  })
  const view = new ProviderView([row(1), row(2)], 1, 0, 'weighted', 60_000)
  const keyOf = (id: number) => view.pick('m', 0, new Set([1, 2].filter((i) => i !== id)))!
  expect([1, 2].filter((id) => view.unproven(keyOf(id), Date.now()))).toEqual([]) // no storm yet
  expect((await forward(inputFor(view, async () => {}))).status).toBe(200)
  // One key said it is spent for 57 s; the other has not answered since: picking it is a gamble.
  const other = called[0] === 1 ? 2 : 1
  expect(view.unproven(keyOf(other), Date.now())).toBe(true)
})

test('a gamble is let go when its attempt is over, whatever the answer', async () => {
  // The caller's own mistake (400) says nothing about the key: it stays a gamble afterwards.
  vi.stubGlobal('fetch', async () => Response.json({ error: { message: 'bad' } }, { status: 400 }))
  const view = new ProviderView([row(1), row(2)], 1, 0, 'weighted', 60_000)
  view.verdict(Date.now())
  expect((await forward(inputFor(view, async () => {}))).status).toBe(400)
  // Were its gamble still held, the key it went to would be passed over while the other is eligible.
  const picked = new Set(Array.from({ length: 20 }, () => view.pick('m', 0, new Set())!.id))
  expect([...picked].sort()).toEqual([1, 2])
})

// Locally a connection dropped mid-answer reaches the Worker as a clean end (see faults.test.ts); on
// Cloudflare the read fails, which only a stubbed fetch can show.
test('a JSON answer whose body fails mid-read is a 502 upstream_interrupted, not half a body', async () => {
  vi.stubGlobal('fetch', async () => {
    let sent = false
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(new Error('connection reset by peer'))
        sent = true
        controller.enqueue(new TextEncoder().encode('{"choices":[{"message":{"content":"Once'))
      },
    })
    return new Response(body, { headers: { 'content-type': 'application/json' } })
  })
  const answer = forward(inputFor(new ProviderView([row(1)], 1, 0), async () => {}))
  await expect(answer).rejects.toMatchObject({ status: 502, code: 'upstream_interrupted' })
})

test('tokens are reported once the answer has passed, for the key that served it', async () => {
  vi.stubGlobal('fetch', async () =>
    Response.json({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }),
  )
  const seen: [number, unknown][] = []
  const input = { ...inputFor(new ProviderView([row(7)], 1, 0), async () => {}) }
  input.tokens = (keyId, tokens) => seen.push([keyId, tokens])
  expect((await forward(input)).status).toBe(200)
  expect(seen).toEqual([[7, { input: 3, output: 2, cached: 0 }]])
})
