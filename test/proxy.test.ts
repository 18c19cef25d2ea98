import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { AUTH_KEY, startWorker, type Harness } from './harness'
import {
  anthropicKey,
  errorCode,
  GEMINI_PATH,
  geminiBody,
  googleInit,
  googleKey,
  openaiInit,
  openaiKey,
} from './helpers'

let h: Harness
beforeAll(async () => {
  h = await startWorker({ authKey: `${AUTH_KEY};kr-guest(4102444800)=openai,gpt-4o-mini;kr-old(1000000000)` })
  await h.addKeys('google-ai-studio', [googleKey(1)])
  await h.addKeys('openai', [openaiKey(1)])
  await h.addKeys('anthropic', [anthropicKey(1)])
})
afterAll(() => h.dispose())
beforeEach(() => h.gateway.reset())

describe('routing', () => {
  test('forwards to ${base}/<provider>/<rest>?<query> with the provider key in its header', async () => {
    const res = await h.fetch(`${GEMINI_PATH}?alt=sse&foo=bar%20baz`, googleInit())
    expect(res.status).toBe(200)
    const [seen] = h.gateway.requests
    expect(seen?.provider).toBe('google-ai-studio')
    expect(seen?.path).toBe('v1beta/models/gemini-2.5-flash:generateContent')
    expect(new URL(seen!.url).search).toBe('?alt=sse&foo=bar%20baz')
    expect(seen?.headers['x-goog-api-key']).toBe(googleKey(1))
    expect(seen?.body).toBe(geminiBody)
    expect(h.gateway.violations).toEqual([])
  })

  test('unknown provider: 404 listing the known ones, upstream not called', async () => {
    const res = await h.fetch('/api/not-a-provider/v1/chat', openaiInit())
    expect(res.status).toBe(404)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('unknown_provider')
    expect(body.error.message).toContain('google-ai-studio')
    expect(body.error.message).toContain('anthropic')
    expect(h.gateway.requests).toHaveLength(0)
  })

  test('other routes: JSON 404', async () => {
    const res = await h.fetch('/nope')
    expect(res.status).toBe(404)
    expect(await errorCode(res)).toBe('not_found')
  })

  test('method, query and non-credential headers pass through; hop-by-hop and edge headers do not', async () => {
    const res = await h.fetch('/api/openai/models?limit=5', {
      method: 'GET',
      headers: {
        authorization: `Bearer ${AUTH_KEY}`,
        'openai-beta': 'assistants=v2',
        'x-custom': 'kept',
        'cf-connecting-ip': '203.0.113.9',
        'x-forwarded-for': '203.0.113.9',
        'cf-aig-max-attempts': '3',
        'cf-aig-cache-ttl': '60',
      },
    })
    expect(res.status).toBe(200)
    const seen = h.gateway.requests[0]!
    expect(seen.method).toBe('GET')
    expect(seen.path).toBe('models')
    expect(seen.headers['openai-beta']).toBe('assistants=v2')
    expect(seen.headers['x-custom']).toBe('kept')
    expect(seen.headers['cf-aig-cache-ttl']).toBe('60')
    expect(seen.headers['cf-connecting-ip']).toBeUndefined()
    expect(seen.headers['x-forwarded-for']).toBeUndefined()
    // The gateway's own retries reuse the same key: a rotating proxy keeps them off, whatever the
    // client asked for.
    expect(seen.headers['cf-aig-max-attempts']).toBe('1')
  })

  test('upstream response headers come back (rate-limit info, request ids)', async () => {
    const res = await h.fetch('/api/openai/chat/completions', openaiInit())
    expect(res.headers.get('x-request-id')).toBe('req_mock')
    expect(res.headers.get('content-type')).toContain('application/json')
  })
})

describe('client authentication', () => {
  test.each([
    ['google x-goog-api-key', GEMINI_PATH, { 'x-goog-api-key': AUTH_KEY }],
    ['openai Bearer', '/api/openai/chat/completions', { authorization: `Bearer ${AUTH_KEY}` }],
    [
      'anthropic x-api-key',
      '/api/anthropic/v1/messages',
      { 'x-api-key': AUTH_KEY, 'anthropic-version': '2023-06-01' },
    ],
    ['Bearer on any provider', GEMINI_PATH, { authorization: `Bearer ${AUTH_KEY}` }],
  ])('accepts AUTH_KEY in %s and never forwards it', async (_name, path, headers) => {
    const res = await h.fetch(path, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', contents: [] }),
    })
    expect(res.status).toBe(200)
    expect(h.gateway.requests).toHaveLength(1)
    expect(h.gateway.violations).toEqual([])
  })

  test("Google's ?key= authenticates and is stripped from the upstream URL", async () => {
    const res = await h.fetch(`${GEMINI_PATH}?key=${AUTH_KEY}&alt=sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: geminiBody,
    })
    expect(res.status).toBe(200)
    const seen = h.gateway.requests[0]!
    expect(new URL(seen.url).search).toBe('?alt=sse')
    expect(seen.url).not.toContain(AUTH_KEY)
    expect(h.gateway.violations).toEqual([])
  })

  test.each([
    ['missing', {}, 'missing_auth_key'],
    ['wrong', { 'x-goog-api-key': 'nope' }, 'invalid_auth_key'],
    ['a prefix of the right one', { 'x-goog-api-key': AUTH_KEY.slice(0, -1) }, 'invalid_auth_key'],
    ['expired', { 'x-goog-api-key': 'kr-old' }, 'auth_key_expired'],
  ])('%s AUTH_KEY: 401 JSON, upstream not called', async (_name, headers, code) => {
    const res = await h.fetch(GEMINI_PATH, { method: 'POST', headers, body: geminiBody })
    expect(res.status).toBe(401)
    expect(await errorCode(res)).toBe(code)
    expect(h.gateway.requests).toHaveLength(0)
  })

  test('a restricted AUTH_KEY may use only its providers and models', async () => {
    const guest = (model: string) => openaiInit(model, { authorization: 'Bearer kr-guest' })
    expect((await h.fetch('/api/openai/chat/completions', guest('gpt-4o-mini'))).status).toBe(200)
    const otherModel = await h.fetch('/api/openai/chat/completions', guest('gpt-4o'))
    expect(otherModel.status).toBe(403)
    expect(await errorCode(otherModel)).toBe('auth_key_forbidden')
    const otherProvider = await h.fetch(GEMINI_PATH, googleInit({ 'x-goog-api-key': 'kr-guest' }))
    expect(otherProvider.status).toBe(403)
    expect(h.gateway.requests).toHaveLength(1)
  })
})

describe('path safety', () => {
  test.each([
    '/api/openai/..%2f..%2fother-account/chat',
    '/api/openai/%2e%2e/%2e%2e/x',
    '/api/openai/%252e%252e/x',
    '/api/openai/a%2fb',
    '/api/openai/a%5c..%5cb',
    '/api/openai/%25252e%25252e/x',
    '/api/openai/a%00b',
    '/api/openai/%zz',
  ])('%s never leaves ${base}/openai/', async (path) => {
    const res = await h.fetch(path, openaiInit())
    if (res.status === 200) {
      for (const r of h.gateway.requests) {
        expect(
          new URL(r.url).pathname.startsWith('/v1/0123456789abcdef0123456789abcdef/keyrelay/openai/'),
        ).toBe(true)
      }
    } else {
      expect(res.status).toBeLessThan(500)
      expect(await errorCode(res)).toMatch(/^(invalid_path|unknown_provider|not_found)$/)
    }
    expect(h.gateway.violations).toEqual([])
  })

  test('an encoded traversal is refused with invalid_path, not forwarded', async () => {
    const res = await h.fetch('/api/openai/..%2f..%2fother/chat', openaiInit())
    expect(res.status).toBe(400)
    expect(await errorCode(res)).toBe('invalid_path')
    expect(h.gateway.requests).toHaveLength(0)
  })

  test('a missing path after the provider is a 400', async () => {
    const res = await h.fetch('/api/openai/', openaiInit())
    expect(res.status).toBe(400)
    expect(await errorCode(res)).toBe('invalid_path')
  })

  test('a model name no provider uses is refused before it reaches D1', async () => {
    const res = await h.fetch('/api/openai/chat/completions', openaiInit('gpt"4o'))
    expect(res.status).toBe(400)
    expect(await errorCode(res)).toBe('invalid_model')
  })
})
