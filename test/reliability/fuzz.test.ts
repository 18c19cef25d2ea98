import fc from 'fast-check'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { GATEWAY_BASE } from '../gateway/mock-gateway'
import { AUTH_KEY, startWorker, type Harness } from '../harness'
import { anthropicKey, googleKey, openaiKey } from '../helpers'
import { report } from './report'

const RUNS = Number(process.env.FUZZ_RUNS ?? 300)
let h: Harness
const providerKeys = [googleKey(1), openaiKey(1), anthropicKey(1)]

beforeAll(async () => {
  h = await startWorker()
  await h.addKeys('google-ai-studio', [providerKeys[0]!])
  await h.addKeys('openai', [providerKeys[1]!])
  await h.addKeys('anthropic', [providerKeys[2]!])
})
afterAll(() => h.dispose())

const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '')
const nasty = [
  '..',
  '.',
  '%2e%2e',
  '%2E%2e',
  '%2f',
  '..%2f',
  '%5c',
  '\\',
  '%252e%252e',
  '%25252f',
  '%00',
  '%zz',
  '%',
  '?',
  '#',
]
const segment = fc.oneof(
  fc.constantFrom(...nasty, 'v1beta', 'models', 'gemini-2.5-flash:generateContent', 'chat', 'completions'),
  fc.string({ maxLength: 12 }),
)
const credentialHeaders = [
  'authorization',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'xi-api-key',
  'cf-aig-authorization',
]

const requestCase = fc.record({
  // Mostly requests that get past routing and auth, so forwarding itself is exercised.
  provider: fc.oneof(
    { arbitrary: fc.constantFrom('google-ai-studio', 'openai', 'anthropic'), weight: 6 },
    { arbitrary: fc.constantFrom('compat', 'groq'), weight: 1 },
    { arbitrary: fc.string({ maxLength: 10 }), weight: 1 },
  ),
  segments: fc.array(segment, { minLength: 1, maxLength: 6 }),
  query: fc.array(
    fc.tuple(fc.constantFrom('key', 'KEY', 'alt', 'x', 'api-version'), fc.string({ maxLength: 20 })),
    { maxLength: 3 },
  ),
  method: fc.oneof(
    { arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'), weight: 8 },
    // Never forwarded: OPTIONS is answered locally, the rest refused with 405.
    { arbitrary: fc.constantFrom('OPTIONS', 'PROPFIND', 'LOCK', 'MKCOL', 'PURGE'), weight: 2 },
  ),
  /** The caller's address: failed guesses are throttled per address, which must not mute the fuzzer. */
  ip: fc.ipV4(),
  /** Credentials of the caller's own, in every header some provider uses: none may reach upstream. */
  junk: fc.array(
    fc.tuple(
      fc.constantFrom(...credentialHeaders, 'x-custom', 'content-type'),
      fc.string({ minLength: 8, maxLength: 40 }),
    ),
    { maxLength: 3 },
  ),
  body: fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 200 }),
    fc.json().map((j) => j),
  ),
  auth: fc.oneof(
    { arbitrary: fc.constant('bearer'), weight: 5 },
    { arbitrary: fc.constantFrom('none', 'query'), weight: 2 },
  ),
})

test(`${RUNS} random requests: no 500, nothing outside the gateway, no caller credential forwarded, errors in one shape`, async () => {
  let cases = 0
  let upstreamCalls = 0
  await fc.assert(
    fc.asyncProperty(requestCase, async (c) => {
      const query = c.query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
      if (c.auth === 'query') query.push(`key=${AUTH_KEY}`)
      const path = `/api/${c.provider}/${c.segments.join('/')}${query.length ? `?${query.join('&')}` : ''}`
      let url: URL
      try {
        url = new URL(path, 'http://keyrelay.test')
      } catch {
        return // not a URL any client could send
      }
      // `..` can normalise a path out of /api/ (to the dashboard's static files): not an API call.
      if (!url.pathname.startsWith('/api/')) return
      const headers = new Headers({ 'cf-connecting-ip': c.ip })
      const sent: string[] = []
      for (const [name, value] of c.junk) {
        const v = printable(value).trim()
        if (v.length < 8) continue
        headers.set(name, v)
        if (credentialHeaders.includes(name)) sent.push(v)
      }
      if (c.auth === 'bearer') headers.set('authorization', `Bearer ${AUTH_KEY}`)
      const body =
        c.method === 'GET' || c.body === undefined
          ? undefined
          : typeof c.body === 'string'
            ? c.body
            : JSON.stringify(c.body)
      const before = h.gateway.requests.length
      const res = await h.fetch(url.pathname + url.search, { method: c.method, headers, body })
      const text = await res.text()
      cases++

      // 503 `no_keys` (groq has none) is right; an internal error never is.
      expect(res.status, `${c.method} ${path}: ${text}`).not.toBe(500)
      const seen = h.gateway.requests.slice(before)
      // keyrelay's own refusals share one shape; an upstream answer is relayed in the provider's.
      if (res.status >= 400 && seen.length === 0) {
        const parsed = JSON.parse(text) as { error?: { code?: unknown } }
        expect(parsed.error?.code, text).toMatch(/^[a-z_]+$/)
      }
      if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(c.method)) {
        expect(seen, `${c.method} must not be forwarded`).toHaveLength(0)
        // Refused before anything else is read (or 404 when the route does not exist at all).
        if (c.method !== 'OPTIONS') expect([404, 405]).toContain(res.status)
      }
      upstreamCalls += seen.length
      for (const r of seen) {
        expect(r.url.startsWith(`${GATEWAY_BASE}/`)).toBe(true)
        const outgoing = [r.url, ...Object.values(r.headers)].join('\n')
        for (const credential of sent) expect(outgoing).not.toContain(credential)
        expect(providerKeys).toContain(r.key)
      }
      expect(h.gateway.violations).toEqual([])
    }),
    { numRuns: RUNS },
  )
  report('fuzz', { cases, upstreamCalls, violations: h.gateway.violations.length })
}, 120_000)

/** Model names as callers send them on the compat route: `<provider>/<anything>`. */
const modelCase = fc.record({
  provider: fc.constantFrom('openai', 'google-ai-studio', 'anthropic', 'nope', ''),
  name: fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('*', '(default)', 'a"b', '../x', 'gpt-4o-mini', 'x'.repeat(300), 'gemini-2.5-flash'),
    fc.stringMatching(/^[A-Za-z0-9._:@/+-]{1,30}$/),
  ),
  route: fc.constantFrom('chat/completions', 'v1/chat/completions', 'embeddings'),
})

test(`${RUNS} random compat model names: valid ones are served, the rest refused with a stable code, none stored`, async () => {
  let cases = 0
  let served = 0
  await fc.assert(
    fc.asyncProperty(modelCase, async (c) => {
      const model = `${c.provider}/${c.name}`
      const res = await h.fetch(`/api/compat/${c.route}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${AUTH_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], input: 'hi' }),
      })
      const text = await res.text()
      cases++
      expect(res.status, `${model}: ${text}`).not.toBe(500)
      if (res.status === 200) served++
      else expect((JSON.parse(text) as { error?: { code?: string } }).error?.code, text).toMatch(/^[a-z_]+$/)
      // A name no provider uses, for a provider that exists, is refused as a model name.
      const known = ['openai', 'google-ai-studio', 'anthropic'].includes(c.provider)
      if (known && c.name !== '' && !/^[A-Za-z0-9._:@/+-]{1,200}$/.test(c.name)) {
        expect(res.status, model).toBe(400)
        expect(text).toContain('invalid_model')
      }
    }),
    { numRuns: RUNS },
  )
  const rows = await h.d1
    .prepare("SELECT cooldowns FROM keys WHERE cooldowns != '{}'")
    .all<{ cooldowns: string }>()
  for (const r of rows.results) {
    for (const scope of Object.keys(JSON.parse(r.cooldowns) as object))
      expect(scope).toMatch(/^([A-Za-z0-9._:@/+-]{1,200}|\*|\(default\))$/)
  }
  report('fuzz models', { cases, served })
}, 120_000)
