/**
 * Scenarios with many isolates: several Worker instances (workerd each) on one local D1, as
 * Cloudflare runs many isolates of one Worker. Each prints what issue 16 asks to measure.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  googleInvalidKey,
  googleMinute429,
  openaiInvalidKey,
  openaiRateLimit,
} from '../test/gateway/fixtures'
import { startWorker, type Harness } from '../test/harness'
import { call, drive, fmt, percentile, sleep } from './lib'

const AUTH = 'bench-auth-key'
const BASE = 'http://bench-gateway.test/v1/0123456789abcdef0123456789abcdef/bench'
const OK = JSON.stringify({ candidates: [{ content: { parts: [{ text: 'ok' }] }, finishReason: 'STOP' }] })
const json = (status: number, body: string, headers: Record<string, string> = {}) =>
  new Response(body, { status, headers: { 'content-type': 'application/json', ...headers } })

export type Record_ = (measure: string, value: string, target?: string, met?: boolean) => void

interface Upstream {
  /** `isolate`: which Worker instance called (each gets its own handler). */
  handle: (request: Request, isolate?: number) => Promise<Response>
  calls: Map<string, number>
  /** 429s answered per key. */
  limited: Map<string, number>
  /**
   * Every answer that told of a key's limit (a refusal, or a success saying no request is left), in
   * the order they left: when its call arrived, and when the answer left (ms, performance.now()).
   */
  told: Telling[]
  /** Calls a good key answered with 429 for going past its own limit (see upstream's perMinute). */
  pastOwnLimit: () => number
}

interface Telling {
  key: string
  isolate: number
  refused: boolean
  arrived: number
  left: number
}

/**
 * How one provider family's keys are called and answer: Google AI Studio sends no rate-limit headers
 * on a success; OpenAI (and Groq) send `x-ratelimit-remaining-requests` / `-reset-requests` on every
 * answer, which keyrelay reads to rest a key before its 429 (provider-errors.md).
 */
interface Family {
  provider: string
  path: string
  init: RequestInit
  keyOf: (request: Request) => string
  ok: (headers?: Record<string, string>) => Response
  limited: () => Response
  dead: () => Response
  /** Headers a success carries when the key has no request left (none: the family sends none). */
  spent?: Record<string, string>
  /** The 429 of a key past its own per-minute limit, retry delay `seconds`. */
  limitedFor: (seconds: number) => Response
}

const GOOGLE: Family = {
  provider: 'google-ai-studio',
  path: '/api/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent',
  init: {
    method: 'POST',
    headers: { 'x-goog-api-key': AUTH, 'content-type': 'application/json' },
    body: '{"contents":[{"parts":[{"text":"hi"}]}]}',
  },
  keyOf: (r) => r.headers.get('x-goog-api-key') ?? '',
  ok: (headers) => json(200, OK, headers),
  limited: () => json(429, googleMinute429),
  dead: () => json(400, googleInvalidKey),
  limitedFor: (seconds) =>
    json(
      429,
      JSON.stringify(
        JSON.parse(googleMinute429),
        (k, v: unknown) => (k === 'retryDelay' ? `${seconds}s` : v),
        2,
      ),
    ),
}

const OPENAI_OK = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
})

/** OpenAI's real header set: a success says what is left; the 429 says it is none, and when it resets. */
const OPENAI: Family = {
  provider: 'openai',
  path: '/api/openai/chat/completions',
  init: {
    method: 'POST',
    headers: { authorization: `Bearer ${AUTH}`, 'content-type': 'application/json' },
    body: '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}',
  },
  keyOf: (r) => (r.headers.get('authorization') ?? '').replace(/^Bearer /, ''),
  ok: (headers) =>
    json(200, OPENAI_OK, {
      'x-ratelimit-limit-requests': '500',
      'x-ratelimit-remaining-requests': '499',
      'x-ratelimit-reset-requests': '120ms',
      ...headers,
    }),
  limited: () =>
    json(429, openaiRateLimit, {
      'x-ratelimit-limit-requests': '500',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '57s',
    }),
  dead: () => json(401, openaiInvalidKey),
  spent: { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '57s' },
  limitedFor: (seconds) =>
    json(429, openaiRateLimit, {
      'x-ratelimit-limit-requests': '500',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': `${seconds}s`,
    }),
}

/**
 * The stand-in: `limited` keys answer 429 (a per-minute quota), except that a family that sends
 * rate-limit headers first answers one success saying no request is left; `dead` keys are invalid;
 * `slow` keys answer after `slowMs`. With `perMinute`, every other key also has a limit of its own,
 * as free-tier keys do: past that many calls in the minute since the stand-in started (a scenario
 * takes seconds), it answers 429 with the rest of the minute as its retry delay.
 */
function upstream(opts: {
  family: Family
  limited: Set<string>
  dead: Set<string>
  slow?: Set<string>
  slowMs?: number
  perMinute?: number
}): Upstream {
  const { family } = opts
  const started = performance.now()
  let pastOwnLimit = 0
  const calls = new Map<string, number>()
  const limited = new Map<string, number>()
  /** Limited keys that already gave their one "no request left" success. */
  const spentSaid = new Set<string>()
  const told: Telling[] = []
  return {
    calls,
    limited,
    told,
    handle: async (request, isolate = 0) => {
      const arrived = performance.now()
      const key = family.keyOf(request)
      await request.arrayBuffer()
      const n = (calls.get(key) ?? 0) + 1
      calls.set(key, n)
      await sleep(opts.slow?.has(key) ? (opts.slowMs ?? 100) : 10)
      const tell = (refused: boolean) =>
        told.push({ key, isolate, refused, arrived, left: performance.now() })
      if (opts.dead.has(key)) {
        tell(true)
        return family.dead()
      }
      if (opts.limited.has(key)) {
        if (family.spent && !spentSaid.has(key)) {
          spentSaid.add(key)
          tell(false)
          return family.ok(family.spent)
        }
        limited.set(key, (limited.get(key) ?? 0) + 1)
        tell(true)
        return family.limited()
      }
      if (opts.perMinute !== undefined && n > opts.perMinute) {
        pastOwnLimit++
        return family.limitedFor(Math.max(1, Math.ceil(60 - (performance.now() - started) / 1000)))
      }
      return family.ok()
    },
    pastOwnLimit: () => pastOwnLimit,
  }
}

const PATH = GOOGLE.path
const init = GOOGLE.init

async function instances(
  n: number,
  up: Upstream,
  keys: string[],
  vars: Record<string, string> = {},
  provider = 'google-ai-studio',
): Promise<Harness[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keyrelay-isolates-'))
  const first = await startWorker({
    deployedDefaults: true,
    authKey: AUTH,
    d1Persist: dir,
    upstream: { base: BASE, handle: (r) => up.handle(r, 0) },
    vars,
    assets: false,
  })
  await first.addKeys(provider, keys)
  const rest = await Promise.all(
    Array.from({ length: n - 1 }, (_, i) =>
      startWorker({
        deployedDefaults: true,
        authKey: AUTH,
        d1Persist: dir,
        applyMigrations: false,
        upstream: { base: BASE, handle: (r) => up.handle(r, i + 1) },
        vars,
        assets: false,
      }),
    ),
  )
  return [first, ...rest]
}

async function d1Totals(all: Harness[]) {
  let read = 0
  let written = 0
  for (const h of all) {
    const res = await fetch(`${h.url}/admin/api/metrics`, { headers: { authorization: `Bearer ${AUTH}` } })
    const m = ((await res.json()) as { d1: { rowsRead: number; rowsWritten: number } }).d1
    read += m.rowsRead
    written += m.rowsWritten
  }
  return { read, written }
}

const keys = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => `AIzaSy${prefix}-${String(i).padStart(8, '0')}`)

/**
 * Part 6 and 7: a 429 storm over 8 isolates, half the keys limited, two dead: Google keys (no
 * rate-limit headers on a success), and OpenAI keys with OpenAI's rate-limit headers. Cold: each
 * isolate has served one request when the burst starts with the keys already bad. Warm: 800
 * requests have gone through every isolate and key first, then the keys go bad as the burst starts,
 * as when quotas run out under steady traffic. With `perMinute`, the good keys have a limit of
 * their own (see upstream): steering that leans too hard on a few keys in a storm pushes them past
 * it, and a key past it is gone for the rest of the minute.
 */
export async function storm(
  record: Record_,
  headers: boolean,
  warm = false,
  perMinute?: number,
): Promise<void> {
  const family = headers ? OPENAI : GOOGLE
  const pool = headers
    ? Array.from({ length: 40 }, (_, i) => `sk-proj-BENCH-${String(i).padStart(8, '0')}`)
    : keys(40, 'STORM')
  const limited = new Set<string>()
  const dead = new Set<string>()
  const up = upstream({ family, limited, dead, perMinute })
  const all = await instances(8, up, pool, { STATS_FLUSH_SECONDS: '1' }, family.provider)
  const PATH = family.path
  const init = family.init
  const spread = (i: number) => all[i % all.length] as Harness
  // Every isolate has loaded its pool before the burst, as busy isolates would have.
  const calm = warm ? await drive(800, 32, (i) => call(`${spread(i).url}${PATH}`, init)) : []
  if (!warm) for (const h of all) await call(`${h.url}${PATH}`, init)
  for (const k of pool.slice(0, 20)) limited.add(k)
  for (const k of pool.slice(20, 22)) dead.add(k)
  const deadBefore = [...dead].reduce((s, k) => s + (up.calls.get(k) ?? 0), 0)
  const before = await d1Totals(all)
  const callsBefore = [...up.calls.values()].reduce((a, b) => a + b, 0)
  const limitedBefore = [...up.limited.values()].reduce((a, b) => a + b, 0)
  const toldBefore = up.told.length
  const n = 1600
  let failures = 0
  const t = performance.now()
  const latencies = await drive(n, 32, async (i) => {
    const res = await fetch(`${spread(i).url}${PATH}`, init)
    await res.arrayBuffer()
    if (res.status !== 200) failures++
  })
  const seconds = (performance.now() - t) / 1000
  await sleep(1500)
  const after = await d1Totals(all)
  const upstreamCalls = [...up.calls.values()].reduce((a, b) => a + b, 0) - callsBefore
  const answered429 = [...up.limited.values()].reduce((a, b) => a + b, 0) - limitedBefore
  const deadCalls = [...dead].reduce((s, k) => s + (up.calls.get(k) ?? 0), 0) - deadBefore
  const wasted = (upstreamCalls - n) / n
  const label = `${warm ? 'warm' : 'cold'}, ${headers ? 'OpenAI keys, with rate-limit headers' : 'Google keys, no rate-limit headers'}${perMinute ? `, good keys ${perMinute} a minute` : ''}`
  record(
    `8 isolates, ${n} requests in ${fmt(seconds, 1)} s, 20 of 40 keys limited, 2 dead, ${label}: client failures`,
    String(failures),
    '0',
    failures === 0,
  )
  record(
    `  429s per limited key (${label})`,
    fmt(answered429 / limited.size, 1),
    '≤ 2',
    answered429 / limited.size <= 2,
  )
  record(`  calls per dead key (${label})`, fmt(deadCalls / dead.size, 1), '≤ 2', deadCalls / dead.size <= 2)
  if (perMinute) record(`  calls past a good key's own limit (${label})`, String(up.pastOwnLimit()))
  const goal = headers ? 0.01 : 0.02
  record(`  wasted upstream attempts per request (${label})`, fmt(wasted, 3), `≤ ${goal}`, wasted <= goal)
  const finds = findings(up.told.slice(toldBefore))
  record(
    `  of those: first finds / sent before anyone could know / later, by another isolate / later, by the same (${label})`,
    `${finds.first} / ${finds.simultaneous} / ${finds.elsewhere} / ${finds.again}`,
  )
  const ms = (d: number[]) => `${fmt(percentile(d, 50), 1)} / ${fmt(percentile(d, 99), 1)} ms`
  record(
    `  client latency p50 / p99 in the burst (${label})`,
    warm ? `${ms(latencies)}; the 800 before it: ${ms(calm)}` : ms(latencies),
  )
  record(
    `  D1 rows read / written per request (${label})`,
    `${fmt((after.read - before.read) / n, 3)} / ${fmt((after.written - before.written) / n, 3)}`,
  )
  await Promise.all(all.map((h) => h.dispose()))
}

/**
 * Why each refused call happened:
 * - first: it was the first answer anywhere to tell of the key's limit. Without rate-limit headers a
 *   key goes bad unseen and someone has to find out: the floor.
 * - simultaneous: the call reached the gateway before the key's first telling answer had left it, so
 *   no isolate could have known (several isolates picked one key within the same moment).
 * - elsewhere: later, from an isolate that had not met the key: the lesson was on its way through D1.
 * - again: later, from an isolate that had met it: a lesson the isolate had and did not use.
 * With rate-limit headers a limited key's first telling answer is the success that says it is spent,
 * so each of its refusals is one of the last three.
 */
function findings(told: Telling[]) {
  const firstTold = new Map<string, Telling>()
  const metAt = new Map<string, number>()
  for (const t of told) {
    const f = firstTold.get(t.key)
    if (!f || t.left < f.left) firstTold.set(t.key, t)
    const here = `${t.isolate} ${t.key}`
    metAt.set(here, Math.min(metAt.get(here) ?? Infinity, t.left))
  }
  const n = { first: 0, simultaneous: 0, elsewhere: 0, again: 0 }
  for (const t of told) {
    if (!t.refused) continue
    const f = firstTold.get(t.key) as Telling
    if (t === f) n.first++
    else if (t.arrived < f.left) n.simultaneous++
    else if ((metAt.get(`${t.isolate} ${t.key}`) ?? Infinity) < t.arrived) n.again++
    else n.elsewhere++
  }
  return n
}

/** How long a cooldown learned by one isolate takes to stop traffic to that key on another, and its D1 cost. */
export async function propagation(record: Record_): Promise<void> {
  const pool = keys(6, 'PROP')
  const target = pool[0] as string
  const limited = new Set<string>()
  const up = upstream({ family: GOOGLE, limited, dead: new Set() })
  const pair = await instances(2, up, pool)
  const a = pair[0] as Harness
  const b = pair[1] as Harness
  for (let i = 0; i < 12; i++) {
    await call(`${a.url}${PATH}`, init)
    await call(`${b.url}${PATH}`, init)
  }
  const before = await d1Totals([a, b])
  limited.add(target)
  // A learns the key is limited…
  while ((up.limited.get(target) ?? 0) === 0) await call(`${a.url}${PATH}`, init)
  const learned = performance.now()
  // …and B, for which the key still answers (so B cannot learn it for itself), keeps sending it
  // traffic until its view has A's cooldown from D1.
  limited.delete(target)
  let lastB = learned
  const deadline = learned + 15_000
  while (performance.now() < deadline) {
    const calls = up.calls.get(target) ?? 0
    const res = await fetch(`${b.url}${PATH}`, init)
    await res.arrayBuffer()
    if ((up.calls.get(target) ?? 0) > calls) lastB = performance.now()
    await sleep(50)
  }
  const after = await d1Totals([a, b])
  record(
    'a cooldown learned by one isolate stops traffic on another within (s, POOL_REFRESH_SECONDS 5)',
    fmt((lastB - learned) / 1000, 1),
    '≤ 5',
    lastB - learned <= 5500,
  )
  record(
    '  D1 rows read / written for it, both isolates, 15 s',
    `${after.read - before.read} / ${after.written - before.written}`,
  )
  await Promise.all([a, b].map((h) => h.dispose()))
}

/** Part 3 and 4: a 10× slower key's share, and tiers. */
export async function weighting(record: Record_): Promise<void> {
  const pool = keys(10, 'SLOW')
  const slow = pool[0] as string
  const up = upstream({
    family: GOOGLE,
    limited: new Set(),
    dead: new Set(),
    slow: new Set([slow]),
    slowMs: 100,
  })
  const h = (await instances(1, up, pool))[0] as Harness
  const paid = 'AIzaSyPAID-00000001'
  const added = await fetch(`${h.url}/admin/api/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${AUTH}`, 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'google-ai-studio', keys: [paid], tier: 1 }),
  })
  if (!added.ok) throw new Error(`adding a tier-1 key: ${added.status}`)
  const n = 1000
  await drive(n, 4, () => call(`${h.url}${PATH}`, init))
  const share = (up.calls.get(slow) ?? 0) / n
  record(
    'share of traffic to a key 10× slower than its 9 peers',
    `${fmt(share * 100, 1)} %`,
    '< 5 %',
    share < 0.05,
  )
  const paidCalls = up.calls.get(paid) ?? 0
  record('requests to a tier-1 key while tier-0 keys can serve', String(paidCalls), '0', paidCalls === 0)
  await h.dispose()
}
