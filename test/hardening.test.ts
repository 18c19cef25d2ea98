import { request as httpRequest } from 'node:http'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import * as f from './gateway/fixtures'
import { replies } from './gateway/replies'
import { AUTH_KEY, keyRow, startWorker, type Harness } from './harness'
import {
  errorCode,
  freshKeys,
  GEMINI_PATH,
  geminiBody,
  googleInit,
  googleKey,
  openaiInit,
  openaiKey,
  rawRequest,
} from './helpers'

// What an adversarial review found (issue 12), each tried against the running Worker.
let h: Harness
const GUEST = 'kr-flash-only'
beforeAll(async () => {
  h = await startWorker({
    authKey: `${AUTH_KEY};${GUEST}=google-ai-studio,gemini-2.5-flash;kr-second-entry`,
    vars: { MAX_BODY_MB: '1' },
  })
})
afterAll(() => h.dispose())
beforeEach(async () => {
  h.gateway.reset()
  await h.clearKeys()
})

/** An answer whose status and headers arrive, then the connection drops while the body is read. */
function brokenBody(status: number): Response {
  let sent = false
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent) return c.error(new Error('connection reset by peer'))
      sent = true
      c.enqueue(new TextEncoder().encode('{"error":{"code":429,"message":"You exc'))
    },
  })
  // The declared length is what lets workerd notice the cut (locally a drop can look like a clean end).
  return new Response(body, {
    status,
    headers: { 'content-type': 'application/json', 'content-length': '900' },
  })
}

describe('requests that used to answer 500 or not fail over', () => {
  test('an error answer whose body breaks off: the next key serves, nobody is penalised', async () => {
    const [cut, good] = freshKeys(googleKey, 2)
    const [cutId] = await h.addKeys('google-ai-studio', [cut!, good!])
    h.gateway.on(cut!, () => brokenBody(429))
    for (let i = 0; i < 2; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    expect(h.gateway.callsFor(cut!)).toBe(1)
    expect(await keyRow(h.d1, cutId!)).toMatchObject({ status: 'active', cooldowns: '{}' })
  })

  test('Expect, hop-by-hop headers and headers named in Connection never travel upstream', async () => {
    await h.addKeys('google-ai-studio', freshKeys(googleKey, 1))
    // Over a raw socket: fetch would neither send a Connection header of its caller's nor an Expect.
    const res = await rawRequest(`${h.url}${GEMINI_PATH}`, {
      method: 'POST',
      headers: {
        'x-goog-api-key': AUTH_KEY,
        'content-type': 'application/json',
        expect: '100-continue',
        connection: 'x-hop-only, keep-alive',
        'x-hop-only': 'secret-ish',
        te: 'trailers',
      },
      body: geminiBody,
    })
    expect(res.status).toBe(200)
    const seen = h.gateway.requests[0]!
    for (const name of ['expect', 'x-hop-only', 'te', 'connection', 'keep-alive']) {
      expect(seen.headers[name], name).toBeUndefined()
    }
    // Other spellings of Connection, on a translated route too.
    for (const connection of ['close, X-Hop-Only', 'keep-alive,x-hop-only', 'X-HOP-ONLY']) {
      h.gateway.reset()
      const again = await rawRequest(`${h.url}/api/compat/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${AUTH_KEY}`,
          'content-type': 'application/json',
          connection,
          'x-hop-only': 'secret-ish',
        },
        body: JSON.stringify({ model: 'google-ai-studio/gemini-2.5-flash', messages: [] }),
      })
      expect(again.status, connection).toBe(200)
      expect(h.gateway.requests[0]?.headers['x-hop-only'], connection).toBeUndefined()
    }
  })

  test.each(['TRACE', 'PROPFIND', 'LOCK'])(
    '%s is refused with 405 and Allow, never forwarded',
    async (method) => {
      await h.addKeys('openai', freshKeys(openaiKey, 1))
      const res = await rawRequest(`${h.url}/api/openai/models`, {
        method,
        headers: { authorization: `Bearer ${AUTH_KEY}` },
      })
      expect(res.status).toBe(405)
      expect((JSON.parse(res.text) as { error: { code: string } }).error.code).toBe('method_not_allowed')
      expect(res.headers.allow).toBe('GET, POST, PUT, PATCH, DELETE, HEAD')
      expect(h.gateway.requests).toHaveLength(0)
    },
  )

  test('OPTIONS is answered here (a CORS preflight), never forwarded', async () => {
    const res = await h.fetch('/api/openai/chat/completions', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    })
    expect(res.status).toBe(204)
    expect(h.gateway.requests).toHaveLength(0)
  })
})

describe('model names are input', () => {
  test('a compat model name is checked like a native one: no 900 KB names, no reserved slots', async () => {
    await h.addKeys('openai', freshKeys(openaiKey, 1))
    for (const model of [`openai/${'m'.repeat(900_000)}`, 'openai/*', 'openai/(default)', 'openai/a"b']) {
      const res = await h.fetch('/api/compat/chat/completions', {
        method: 'POST',
        headers: { authorization: `Bearer ${AUTH_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [] }),
      })
      expect(res.status, model.slice(0, 20)).toBe(400)
      expect(await errorCode(res)).toBe('invalid_model')
    }
    expect(h.gateway.requests).toHaveLength(0)
  })

  test('a 429 for a model whose name holds `.`, `:` and `@` cools exactly that model', async () => {
    const [limited, other] = freshKeys(openaiKey, 2)
    const [limitedId] = await h.addKeys('openai', [limited!, other!])
    h.gateway.on(limited!, () => replies.openaiRateLimit({ 'retry-after': '30' }))
    for (let i = 0; i < 2; i++) await h.fetch('/api/openai/chat/completions', openaiInit('gpt-4o.mini:x@y'))
    const cooldowns = JSON.parse((await keyRow(h.d1, limitedId!))!.cooldowns) as Record<string, number>
    expect(Object.keys(cooldowns)).toEqual(['gpt-4o.mini:x@y'])
  })

  test('a restricted AUTH_KEY cannot reach another model through a path the model reader once missed', async () => {
    await h.addKeys('google-ai-studio', freshKeys(googleKey, 1))
    const guest = (path: string, body: object) =>
      h.fetch(path, {
        method: 'POST',
        headers: { 'x-goog-api-key': GUEST, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const decoy = { model: 'gemini-2.5-flash', contents: [{ parts: [{ text: 'hi' }] }] }
    for (const path of [
      '/api/google-ai-studio/v1beta/tunedModels/expensive-tune:generateContent',
      '/api/google-ai-studio/v1beta/cachedContents',
      '/api/google-ai-studio/v1beta/files',
    ]) {
      const res = await guest(path, decoy)
      expect(res.status, path).toBe(403)
      expect(await errorCode(res)).toBe('auth_key_forbidden')
    }
    expect(h.gateway.requests).toHaveLength(0)
    // The model it may use, by path or on Google's OpenAI-style route (which reads the body), works.
    expect((await guest(GEMINI_PATH, decoy)).status).toBe(200)
    const openaiStyle = '/api/google-ai-studio/v1beta/openai/chat/completions'
    expect((await guest(openaiStyle, { model: 'gemini-2.5-flash', messages: [] })).status).toBe(200)
    expect((await guest(openaiStyle, { model: 'gemini-2.5-pro', messages: [] })).status).toBe(403)
  })
})

describe('headers that reach AI Gateway', () => {
  test("a client's gateway controls outside the allow-list and spoofable address headers are dropped", async () => {
    await h.addKeys('google-ai-studio', freshKeys(googleKey, 1))
    const res = await h.fetch(
      GEMINI_PATH,
      googleInit({
        'cf-aig-collect-log': 'false',
        'cf-aig-collect-log-payload': 'false',
        'cf-aig-custom-cost': '{"total_cost":0}',
        'cf-aig-byok-alias': 'someone-else',
        'cf-aig-no-wholesale': 'false',
        'cf-aig-skip-cache': 'true',
        'cf-aig-request-timeout': '30000',
        forwarded: 'for=198.51.100.1',
        'true-client-ip': '198.51.100.1',
        'x-forwarded-for': '198.51.100.1',
        'x-real-ip': '198.51.100.1',
      }),
    )
    expect(res.status).toBe(200)
    const seen = h.gateway.requests[0]!.headers
    for (const dropped of [
      'cf-aig-collect-log',
      'cf-aig-collect-log-payload',
      'cf-aig-custom-cost',
      'cf-aig-byok-alias',
      'forwarded',
      'true-client-ip',
      'x-forwarded-for',
      'x-real-ip',
    ]) {
      expect(seen[dropped], dropped).toBeUndefined()
    }
    expect(seen['cf-aig-skip-cache']).toBe('true')
    expect(seen['cf-aig-request-timeout']).toBe('30000')
    // keyrelay's own say, whatever the client sent.
    expect(seen['cf-aig-no-wholesale']).toBe('true')
    expect(seen['cf-aig-max-attempts']).toBe('1')
  })

  test('every upstream call names its pool key and attempt in cf-aig-metadata, with the client metadata', async () => {
    const [limited, good] = freshKeys(googleKey, 2)
    const [limitedId, goodId] = await h.addKeys('google-ai-studio', [limited!, good!])
    h.gateway.on(limited!, () => replies.googleMinute429())
    // Two requests: whichever key goes first, one request meets the limited key on attempt 1.
    for (let i = 0; i < 2; i++) {
      const res = await h.fetch(GEMINI_PATH, googleInit({ 'cf-aig-metadata': '{"user":"ada","team":7}' }))
      expect(res.status).toBe(200)
    }
    const metas = h.gateway.requests.map(
      (r) => JSON.parse(r.headers['cf-aig-metadata']!) as Record<string, unknown>,
    )
    for (const m of metas) expect(m).toMatchObject({ user: 'ada', team: 7 })
    expect(metas.map((m) => [m.keyrelay_key, m.keyrelay_attempt])).toContainEqual([limitedId, 1])
    expect(metas.map((m) => [m.keyrelay_key, m.keyrelay_attempt])).toContainEqual([goodId, 2])
  })

  test.each([
    ['four entries', '{"a":1,"b":2,"c":3,"d":4}'],
    ['a nested value', '{"a":{"b":1}}'],
    ["keyrelay's own name", '{"keyrelay_key":1}'],
    ['not JSON', 'user=ada'],
  ])('client metadata with %s is refused with a clear 400', async (_name, value) => {
    await h.addKeys('google-ai-studio', freshKeys(googleKey, 1))
    const res = await h.fetch(GEMINI_PATH, googleInit({ 'cf-aig-metadata': value }))
    expect(res.status).toBe(400)
    expect(await errorCode(res)).toBe('invalid_metadata')
    expect(h.gateway.requests).toHaveLength(0)
  })

  test('with caching asked for, the cache key comes from the request and the AUTH_KEY entry, never the pool key', async () => {
    await h.addKeys('google-ai-studio', freshKeys(googleKey, 3))
    const ask = (auth: string, extra: Record<string, string> = {}, body = geminiBody) =>
      h.fetch(GEMINI_PATH, { ...googleInit({ 'x-goog-api-key': auth, ...extra }), body })
    for (let i = 0; i < 3; i++) await ask(AUTH_KEY, { 'cf-aig-cache-ttl': '3600' })
    await ask('kr-second-entry', { 'cf-aig-cache-ttl': '3600' })
    await ask(
      AUTH_KEY,
      { 'cf-aig-cache-ttl': '3600' },
      JSON.stringify({ contents: [{ parts: [{ text: 'other' }] }] }),
    )
    await ask(AUTH_KEY)
    await ask(AUTH_KEY, { 'cf-aig-cache-key': 'my-key' })
    await ask('kr-second-entry', { 'cf-aig-cache-key': 'my-key' })
    const seen = h.gateway.requests
    const keys = seen.map((r) => r.headers['cf-aig-cache-key'])
    // Three pool keys served the first three; one cache key for all of them.
    expect(new Set(seen.slice(0, 3).map((r) => r.key)).size).toBe(3)
    expect(new Set(keys.slice(0, 3)).size).toBe(1)
    expect(keys[0]).toMatch(/^[0-9a-f]{64}$/)
    expect(keys[3]).not.toBe(keys[0]) // another AUTH_KEY entry
    expect(keys[4]).not.toBe(keys[0]) // another body
    expect(keys[5]).toBeUndefined() // no caching asked for
    expect(keys[6]).toMatch(/^[0-9a-f]{64}$/) // the client's own key, namespaced by its entry
    expect(keys[6]).not.toBe('my-key')
    expect(keys[7]).not.toBe(keys[6])
  })
})

describe('authentication', () => {
  let guesses = 0
  /** A new wrong guess each call, as a guesser sends them. */
  const wrong = (ip: string, path = '/api/openai/models') =>
    h.fetch(path, { headers: { authorization: `Bearer not-the-key-${guesses++}`, 'cf-connecting-ip': ip } })

  test('parallel wrong guesses from one address: a few are answered, the rest throttled; others unaffected', async () => {
    await h.addKeys('openai', freshKeys(openaiKey, 1))
    const ip = '203.0.113.77'
    const answers = await Promise.all(Array.from({ length: 20 }, () => wrong(ip)))
    const statuses = answers.map((r) => r.status)
    expect(statuses.filter((s) => s === 401)).toHaveLength(4)
    expect(statuses.filter((s) => s === 429)).toHaveLength(16)
    const throttled = answers.find((r) => r.status === 429)!
    expect(await errorCode(throttled)).toBe('auth_throttled')
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0)
    // Even the right key waits from that address (or guessing between right tries would be free)…
    const right = { authorization: `Bearer ${AUTH_KEY}` }
    expect(
      (await h.fetch('/api/openai/models', { headers: { ...right, 'cf-connecting-ip': ip } })).status,
    ).toBe(429)
    // …and the admin API and compat routes count the same failures.
    expect((await wrong(ip, '/admin/api/keys')).status).toBe(429)
    expect((await wrong(ip, '/api/compat/models')).status).toBe(429)
    // Another address is not affected.
    expect(
      (await h.fetch('/api/openai/models', { headers: { ...right, 'cf-connecting-ip': '203.0.113.78' } }))
        .status,
    ).toBe(200)
  })

  test('a mistyped key retried behind the same address does not lock out a right one', async () => {
    await h.addKeys('openai', freshKeys(openaiKey, 1))
    const ip = '203.0.113.80'
    const mistyped = { authorization: `Bearer ${AUTH_KEY.slice(0, -1)}x`, 'cf-connecting-ip': ip }
    for (let i = 0; i < 20; i++) {
      const res = await h.fetch('/api/openai/models', { headers: mistyped })
      expect(res.status).toBe(401)
      expect(await errorCode(res)).toBe('invalid_auth_key')
    }
    // A teammate behind the same NAT, with the right key.
    const right = { authorization: `Bearer ${AUTH_KEY}`, 'cf-connecting-ip': ip }
    expect((await h.fetch('/api/openai/models', { headers: right })).status).toBe(200)
    // New guesses from there still count: past the free ones the address waits, right key included.
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await wrong(ip)).status)
    expect(statuses).toEqual([401, 401, 401, 401, 429])
    expect((await h.fetch('/api/openai/models', { headers: right })).status).toBe(429)
  })

  test('wrong Bearer guesses on the admin API are throttled too', async () => {
    const ip = '203.0.113.90'
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await wrong(ip, '/admin/api/keys')).status)
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429])
  })
})

describe('secrets in relayed errors', () => {
  test("OpenAI's 401 quoting the pool key's tail is relayed with that fragment masked", async () => {
    const keys = freshKeys(openaiKey, 2)
    await h.addKeys('openai', keys)
    for (const k of keys) {
      const echoed = f.openaiInvalidKey.replace('sk-proj-****', `sk-proj-****${k.slice(-4)}`)
      h.gateway.on(
        k,
        () => new Response(echoed, { status: 401, headers: { 'content-type': 'application/json' } }),
      )
    }
    const res = await h.fetch('/api/openai/chat/completions', openaiInit())
    expect(res.status).toBe(401)
    const text = await res.text()
    for (const k of keys) expect(text).not.toContain(k.slice(-4))
    expect(JSON.parse(text)).toMatchObject({
      error: { code: 'invalid_api_key', message: expect.stringContaining('Incorrect API key provided') },
    })
  })
})

describe('limits', () => {
  test('a compat body over MAX_BODY_MB is a 413 with a stable code; nothing reaches upstream', async () => {
    await h.addKeys('openai', freshKeys(openaiKey, 1))
    const big = JSON.stringify({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'x'.repeat(1_100_000) }],
    })
    const res = await h.fetch('/api/compat/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${AUTH_KEY}`, 'content-type': 'application/json' },
      body: big,
    })
    expect(res.status).toBe(413)
    expect(await errorCode(res)).toBe('body_too_large')
    expect(h.gateway.requests).toHaveLength(0)
  })

  test('a declared Content-Length over MAX_BODY_MB (16 MB): the client reads the 413, never a reset', async () => {
    // What an SDK does: write the whole body while the answer may already be on its way.
    const upload = (bytes: number) =>
      new Promise<string>((resolve) => {
        const req = httpRequest(
          `${h.url}/api/compat/chat/completions`,
          {
            method: 'POST',
            headers: {
              authorization: `Bearer ${AUTH_KEY}`,
              'content-type': 'application/json',
              'content-length': String(bytes),
            },
          },
          (res) => {
            let text = ''
            res.on('data', (c: Buffer) => (text += c.toString()))
            res.on('end', () => resolve(`${res.statusCode} ${text}`))
          },
        )
        req.on('error', (e) => resolve(`error ${e.message}`))
        const chunk = Buffer.alloc(64 * 1024, 'x')
        let sent = 0
        const write = () => {
          while (sent < bytes) {
            const n = Math.min(chunk.length, bytes - sent)
            sent += n
            if (!req.write(chunk.subarray(0, n))) return void req.once('drain', write)
          }
          req.end()
        }
        write()
      })
    for (const mb of [17, 40, 17, 40, 90]) {
      const answer = await upload(mb * 1024 * 1024)
      expect(answer, `${mb} MB`).toMatch(/^413 .*body_too_large/)
    }
  }, 60_000)

  test('an admin body over MAX_BODY_MB is a 413 and stores nothing', async () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `sk-limit-${String(i).padStart(60, '0')}`)
    const res = await h.fetch('/admin/api/keys', {
      method: 'POST',
      headers: { authorization: `Bearer ${AUTH_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'mistral', keys }),
    })
    expect(res.status).toBe(413)
    expect(await errorCode(res)).toBe('body_too_large')
    const n = await h.d1
      .prepare("SELECT count(*) AS n FROM keys WHERE provider = 'mistral'")
      .first<{ n: number }>()
    expect(n?.n).toBe(0)
  })

  test('pass-through routes are not limited by MAX_BODY_MB', async () => {
    await h.addKeys('openai', freshKeys(openaiKey, 1))
    const big = JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x'.repeat(2_000_000) }],
    })
    const res = await h.fetch('/api/openai/chat/completions', { ...openaiInit(), body: big })
    expect(res.status).toBe(200)
    expect(h.gateway.requests[0]?.body.length).toBe(big.length)
  })
})

describe('failed attempts from many addresses', () => {
  test('past the per-minute ceiling new addresses wait, with a clear message; addresses in use do not', async () => {
    const own = await startWorker()
    try {
      const from = (ip: string, key: string) =>
        own.fetch('/admin/api/keys', { headers: { authorization: `Bearer ${key}`, 'cf-connecting-ip': ip } })
      expect((await from('198.51.100.1', AUTH_KEY)).status).toBe(200)
      // One wrong guess each from 120 addresses: every one free for its own address.
      for (let i = 0; i < 120; i++) expect((await from(`203.0.113.${i}`, 'a-wrong-guess')).status).toBe(401)
      const fresh = await from('198.51.100.2', AUTH_KEY)
      expect(fresh.status).toBe(429)
      expect(await errorCode(fresh)).toBe('auth_throttled')
      expect(Number(fresh.headers.get('retry-after'))).toBeGreaterThan(0)
      const message = (
        (await own
          .fetch('/admin/api/keys', {
            headers: { authorization: 'Bearer x', 'cf-connecting-ip': '198.51.100.3' },
          })
          .then((r) => r.json())) as { error: { message: string } }
      ).error.message
      expect(message).toContain('from many addresses')
      // The address that authenticated before goes on as before.
      expect((await from('198.51.100.1', AUTH_KEY)).status).toBe(200)
    } finally {
      await own.dispose()
    }
  })
})

describe('a refused request leaves its connection usable', () => {
  // Answering before the body is read makes workerd close the connection; a client that sends its
  // next request on it (every SDK keeps connections alive) gets "other side closed" instead.
  test('after a wrong key on a POST, the next request on the same connection is answered', async () => {
    const { Agent } = await import('node:http')
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const send = (key: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          `${h.url}${GEMINI_PATH}`,
          { method: 'POST', agent, headers: { 'x-goog-api-key': key, 'content-type': 'application/json' } },
          (res) => {
            res.resume()
            res.on('end', () => resolve(res.statusCode ?? 0))
          },
        )
        req.on('error', reject)
        req.end(JSON.stringify({ contents: [{ parts: [{ text: 'x'.repeat(20_000) }] }] }))
      })
    await h.addKeys('google-ai-studio', [googleKey(1)])
    try {
      for (let i = 0; i < 5; i++) {
        expect(await send('wrong-key')).toBe(401)
        expect(await send(AUTH_KEY)).toBe(200)
      }
    } finally {
      agent.destroy()
    }
  })
})
