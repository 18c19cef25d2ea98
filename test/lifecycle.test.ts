import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { replies } from './gateway/replies'
import { AUTH_KEY, cooldownsOf, keyRow, startWorker, type Harness } from './harness'
import {
  anthropicKey,
  errorCode,
  freshKeys,
  GEMINI_PATH,
  googleInit,
  googleKey,
  openaiInit,
  openaiKey,
} from './helpers'

let h: Harness
beforeAll(async () => {
  h = await startWorker()
})
afterAll(() => h.dispose())
beforeEach(async () => {
  h.gateway.reset()
  // Every test gets a fresh pool, deleted through the admin API so the Worker's view follows.
  await h.clearKeys()
})

const nowSeconds = () => Math.floor(Date.now() / 1000)

describe('Google AI Studio', () => {
  test('a daily-quota 429 cools that key for that model until Pacific midnight, then the next key serves', async () => {
    const [bad, good] = freshKeys(googleKey, 2)
    const [badId] = await h.addKeys('google-ai-studio', [bad!, good!])
    h.gateway.on(bad!, () => replies.googleDaily429())

    for (let i = 0; i < 4; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    expect(h.gateway.callsFor(bad!)).toBe(1) // once cooled it is not tried again
    const until = (await cooldownsOf(h.d1, badId!))['gemini-2.5-flash']!
    // Midnight Pacific is at most 25 h away, and always more than the body's 59 s RetryInfo.
    const secondsLeft = until - nowSeconds()
    expect(secondsLeft).toBeGreaterThan(120)
    expect(secondsLeft).toBeLessThanOrEqual(25 * 3600)
    const pacificNow = new Date(Date.now()).toLocaleString('en-US', {
      timeZone: 'America/Los_Angeles',
      hourCycle: 'h23',
    })
    const pacificAtUntil = new Date(until * 1000).toLocaleString('en-US', {
      timeZone: 'America/Los_Angeles',
      hourCycle: 'h23',
    })
    expect(pacificAtUntil).toMatch(/, 00:00:0\d$/)
    expect(pacificAtUntil.split(',')[0]).not.toBe(pacificNow.split(',')[0])
  })

  test('a per-minute 429 cools for RetryInfo (57 s) plus a margin, for that model only', async () => {
    const [bad, good] = freshKeys(googleKey, 2)
    const [badId] = await h.addKeys('google-ai-studio', [bad!, good!])
    h.gateway.on(bad!, () => replies.googleMinute429())
    for (let i = 0; i < 2; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    const cd = await cooldownsOf(h.d1, badId!)
    expect(Object.keys(cd)).toEqual(['gemini-2.5-flash'])
    expect(cd['gemini-2.5-flash']! - nowSeconds()).toBeGreaterThanOrEqual(56)
    expect(cd['gemini-2.5-flash']! - nowSeconds()).toBeLessThanOrEqual(60)

    // Another model still uses the key.
    h.gateway.on(bad!, () => replies.googleOk())
    const calls = h.gateway.callsFor(bad!)
    for (let i = 0; i < 2; i++) {
      const other = await h.fetch(
        '/api/google-ai-studio/v1beta/models/gemini-2.0-flash:generateContent',
        googleInit(),
      )
      expect(other.status).toBe(200)
    }
    expect(h.gateway.callsFor(bad!)).toBe(calls + 1)
  })

  test.each([
    ['API_KEY_INVALID', () => replies.googleInvalidKey()],
    ['LEAKED', () => replies.googleLeaked()],
    ['CONSUMER_SUSPENDED', () => replies.googleSuspended()],
  ])('%s blocks the key with its reason, and the request succeeds on another', async (reason, reply) => {
    const [bad, good] = freshKeys(googleKey, 2)
    const [badId] = await h.addKeys('google-ai-studio', [bad!, good!])
    h.gateway.on(bad!, reply)
    for (let i = 0; i < 3; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    const row = await keyRow(h.d1, badId!)
    expect(row?.status).toBe('blocked')
    expect(row?.blocked_reason).toBe(reason)
    expect(Math.abs(row!.blocked_at! - nowSeconds())).toBeLessThanOrEqual(5)
    expect(h.gateway.callsFor(bad!)).toBe(1)
  })

  test("the caller's own 400 passes through unchanged: no retry, no state change", async () => {
    const [k1, k2] = freshKeys(googleKey, 2)
    const ids = await h.addKeys('google-ai-studio', [k1!, k2!])
    h.gateway.on(k1!, () => replies.googleBadRequest()).on(k2!, () => replies.googleBadRequest())
    const res = await h.fetch(GEMINI_PATH, googleInit())
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { status: string } }).error.status).toBe('INVALID_ARGUMENT')
    expect(h.gateway.requests).toHaveLength(1)
    for (const id of ids) expect(await keyRow(h.d1, id)).toMatchObject({ status: 'active', cooldowns: '{}' })
  })
})

describe('OpenAI-style and Anthropic', () => {
  test('insufficient_quota cools the key for hours, for every model', async () => {
    const [bad, good] = freshKeys(openaiKey, 2)
    const [badId] = await h.addKeys('openai', [bad!, good!])
    h.gateway.on(bad!, () => replies.openaiInsufficientQuota())
    for (let i = 0; i < 2; i++)
      expect((await h.fetch('/api/openai/chat/completions', openaiInit())).status).toBe(200)
    const cd = await cooldownsOf(h.d1, badId!)
    expect(cd['*']! - nowSeconds()).toBeGreaterThanOrEqual(6 * 3600 - 5)
    for (let i = 0; i < 2; i++) {
      expect((await h.fetch('/api/openai/chat/completions', openaiInit('gpt-4o'))).status).toBe(200)
    }
    expect(h.gateway.callsFor(bad!)).toBe(1)
  })

  test('rate_limit_exceeded with retry-after cools for that long', async () => {
    const [bad, good] = freshKeys(openaiKey, 2)
    const [badId] = await h.addKeys('openai', [bad!, good!])
    h.gateway.on(bad!, () => replies.openaiRateLimit({ 'retry-after': '20' }))
    for (let i = 0; i < 2; i++)
      expect((await h.fetch('/api/openai/chat/completions', openaiInit())).status).toBe(200)
    const left = (await cooldownsOf(h.d1, badId!))['gpt-4o-mini']! - nowSeconds()
    expect(left).toBeGreaterThanOrEqual(19)
    expect(left).toBeLessThanOrEqual(22)
  })

  test('401 blocks an OpenAI key', async () => {
    const [bad, good] = freshKeys(openaiKey, 2)
    const [badId] = await h.addKeys('openai', [bad!, good!])
    h.gateway.on(bad!, () => replies.openaiInvalidKey())
    for (let i = 0; i < 2; i++)
      expect((await h.fetch('/api/openai/chat/completions', openaiInit())).status).toBe(200)
    expect(await keyRow(h.d1, badId!)).toMatchObject({
      status: 'blocked',
      blocked_reason: '401 invalid_api_key',
    })
  })

  test('Anthropic: 429 with retry-after rotates and cools; 529 retries without penalty', async () => {
    const [limited, overloaded, good] = freshKeys(anthropicKey, 3)
    const [limitedId, overloadedId] = await h.addKeys('anthropic', [limited!, overloaded!, good!])
    h.gateway
      .on(limited!, () => replies.anthropicRateLimit('30'))
      .on(overloaded!, () => replies.anthropicOverloaded())
    const init = {
      method: 'POST',
      headers: {
        'x-api-key': AUTH_KEY,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    }
    for (let i = 0; i < 3; i++) expect((await h.fetch('/api/anthropic/v1/messages', init)).status).toBe(200)
    const left = (await cooldownsOf(h.d1, limitedId!))['claude-sonnet-4-5']! - nowSeconds()
    expect(left).toBeGreaterThanOrEqual(29)
    expect(left).toBeLessThanOrEqual(32)
    expect(await keyRow(h.d1, overloadedId!)).toMatchObject({ status: 'active', cooldowns: '{}' })
  })
})

describe('errors that are not the key', () => {
  test.each([
    ['2009 bad gateway token', () => replies.gatewayUnauthorized(), 502, 'gateway_error'],
    ['2040 BYOK alias', () => replies.gatewayByokMissing(), 502, 'gateway_error'],
    ["the gateway's own rate limit", () => replies.gatewayRateLimited(), 429, 'gateway_rate_limited'],
  ])(
    'AI Gateway error (%s): clear error, no key blocked or cooled, no retry',
    async (_n, reply, status, code) => {
      const keys = freshKeys(googleKey, 2)
      const ids = await h.addKeys('google-ai-studio', keys)
      for (const k of keys) h.gateway.on(k, reply)
      const res = await h.fetch(GEMINI_PATH, googleInit())
      expect(res.status).toBe(status)
      const body = (await res.json()) as { error: { code: string; message: string } }
      expect(body.error.code).toBe(code)
      expect(body.error.message).toContain('AI Gateway')
      if (status === 429) expect(res.headers.get('retry-after')).toBe('7')
      expect(h.gateway.requests).toHaveLength(1)
      for (const id of ids)
        expect(await keyRow(h.d1, id)).toMatchObject({ status: 'active', cooldowns: '{}' })
    },
  )

  test('5xx and network errors: another key is tried, nobody is penalised', async () => {
    const [flaky, down, good] = freshKeys(googleKey, 3)
    const ids = await h.addKeys('google-ai-studio', [flaky!, down!, good!])
    h.gateway
      .on(flaky!, () => replies.googleOverloaded())
      .on(down!, () => {
        throw new Error('connection reset')
      })
    for (let i = 0; i < 4; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    for (const id of ids) expect(await keyRow(h.d1, id)).toMatchObject({ status: 'active', cooldowns: '{}' })
  })

  test('attempts run out: the last upstream response is returned as it was', async () => {
    const keys = freshKeys(googleKey, 7)
    await h.addKeys('google-ai-studio', keys)
    for (const k of keys) h.gateway.on(k, () => replies.googleOverloaded())
    const res = await h.fetch(GEMINI_PATH, googleInit())
    expect(res.status).toBe(503)
    expect(((await res.json()) as { error: { status: string } }).error.status).toBe('UNAVAILABLE')
    expect(h.gateway.requests).toHaveLength(5) // MAX_ATTEMPTS default
    await expect.poll(() => h.logs.some((l) => l.includes('"event":"attempts_exhausted"'))).toBe(true)
  })
})

describe('when no key can serve', () => {
  test('every key cooling for the model: 429 with Retry-After to the soonest, upstream not called', async () => {
    const [k1, k2] = freshKeys(openaiKey, 2)
    await h.addKeys('openai', [k1!, k2!])
    h.gateway.on(k1!, () => replies.openaiRateLimit({ 'retry-after': '40' }))
    h.gateway.on(k2!, () => replies.openaiRateLimit({ 'retry-after': '100' }))
    const first = await h.fetch('/api/openai/chat/completions', openaiInit())
    expect(first.status).toBe(429) // both tried, the last upstream 429 comes back
    h.gateway.reset()
    const res = await h.fetch('/api/openai/chat/completions', openaiInit())
    expect(res.status).toBe(429)
    expect(await errorCode(res)).toBe('all_keys_cooling')
    const retryAfter = Number(res.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(39)
    expect(retryAfter).toBeLessThanOrEqual(42)
    expect(h.gateway.requests).toHaveLength(0)
    // Another model is not cooling.
    expect((await h.fetch('/api/openai/chat/completions', openaiInit('gpt-4o'))).status).toBe(200)
  })

  test('no keys at all: 503 naming the provider', async () => {
    const res = await h.fetch('/api/mistral/v1/chat/completions', openaiInit('mistral-small'))
    expect(res.status).toBe(503)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('no_keys')
    expect(body.error.message).toContain('mistral')
  })

  test('every key blocked: 503 all_keys_blocked', async () => {
    const keys = freshKeys(openaiKey, 2)
    await h.addKeys('groq', keys)
    for (const k of keys) h.gateway.on(k, () => replies.openaiInvalidKey())
    expect((await h.fetch('/api/groq/chat/completions', openaiInit('llama'))).status).toBe(401)
    const res = await h.fetch('/api/groq/chat/completions', openaiInit('llama'))
    expect(res.status).toBe(503)
    expect(await errorCode(res)).toBe('all_keys_blocked')
  })
})

describe('body replay', () => {
  test('every attempt carries the byte-identical body', async () => {
    const keys = freshKeys(openaiKey, 3)
    await h.addKeys('openai', keys)
    h.gateway.on(keys[0]!, () => replies.openaiRateLimit()).on(keys[1]!, () => replies.openaiRateLimit())
    h.gateway.on(keys[2]!, () => replies.openaiRateLimit())
    const body = JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'héllo 🌍 ' + 'x'.repeat(50_000) }],
    })
    await h.fetch('/api/openai/chat/completions', { ...openaiInit(), body })
    expect(h.gateway.requests.length).toBe(3)
    for (const r of h.gateway.requests) expect(r.body).toBe(body)
    expect(new Set(h.gateway.requests.map((r) => r.key)).size).toBe(3)
  })
})
