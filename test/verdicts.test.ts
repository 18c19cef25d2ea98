import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import * as f from './gateway/fixtures'
import { RESTRICTED_OPENAI_MODEL } from './gateway/refusals'
import { replies } from './gateway/replies'
import { AUTH_KEY, cooldownsOf, keyRow, startWorker, type Harness } from './harness'
import { anthropicKey, freshKeys, GEMINI_PATH, googleKey, openaiKey, openrouterKey } from './helpers'

// A key is punished only on proof (issue 23): requests that draw a 401/402/403/400 from healthy keys
// leave every key as it was; the provider's own codes for a dead key or an empty account still act;
// a 401/403 that names no cause is proved with a check that spends no quota before anything happens.
let h: Harness
beforeAll(async () => {
  h = await startWorker()
})
afterAll(() => h.dispose())
beforeEach(async () => {
  h.gateway.reset()
  await h.clearKeys()
})

const json = { 'content-type': 'application/json' }
const asGoogle = { 'x-goog-api-key': AUTH_KEY, ...json }
const asBearer = { authorization: `Bearer ${AUTH_KEY}`, ...json }
const asAnthropic = { 'x-api-key': AUTH_KEY, 'anthropic-version': '2023-06-01', ...json }

const post = (path: string, headers: Record<string, string>, body: object) =>
  h.fetch(path, { method: 'POST', headers, body: JSON.stringify(body) })

const fileRequest = {
  contents: [
    { parts: [{ text: 'Summarise' }, { fileData: { fileUri: 'files/abc123', mimeType: 'text/plain' } }] },
  ],
}
const chat = (model: string, extra: object = {}) => ({
  model,
  messages: [{ role: 'user', content: 'Hello' }],
  ...extra,
})
const message = (extra: object = {}) => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 64,
  messages: [{ role: 'user', content: 'Hello' }],
  ...extra,
})

/** Every key as stored: active, with no cooldown at all. */
async function untouched(ids: number[]): Promise<void> {
  for (const id of ids) {
    expect((await keyRow(h.d1, id))?.status, `key ${id}`).toBe('active')
    expect(await cooldownsOf(h.d1, id), `key ${id}`).toEqual({})
  }
}

/** Innocent requests until every key has served one (a few rounds of the rotation at most). */
async function everyKeyServes(keys: string[], send: () => Promise<Response>): Promise<void> {
  h.gateway.reset()
  for (let i = 0; i < keys.length * 4 && !keys.every((k) => h.gateway.callsFor(k) > 0); i++) {
    expect((await send()).status).toBe(200)
  }
  expect(keys.filter((k) => h.gateway.callsFor(k) === 0)).toEqual([])
}

/** Upstream calls that were not a check (probes carry keyrelay_attempt "check"). */
const clientCalls = () => h.gateway.requests.filter((r) => !r.headers['cf-aig-metadata']?.includes('"check"'))

describe('answers about the request leave every key as it was', () => {
  test('Google: a file the key cannot see (403 PERMISSION_DENIED) is relayed, after one call; 8 keys stay', async () => {
    const keys = freshKeys(googleKey, 8)
    const ids = await h.addKeys('google-ai-studio', keys)
    for (let i = 0; i < 3; i++) {
      const res = await post(GEMINI_PATH, asGoogle, fileRequest)
      expect(res.status).toBe(403)
      expect(await res.json()).toMatchObject({ error: { status: 'PERMISSION_DENIED' } })
    }
    expect(clientCalls()).toHaveLength(3)
    await untouched(ids)
    await everyKeyServes(keys, () => post(GEMINI_PATH, asGoogle, { contents: [{ parts: [{ text: 'Hi' }] }] }))
  })

  test('OpenAI: a model the project cannot use (403 model_not_found) is relayed, keys stay', async () => {
    const keys = freshKeys(openaiKey, 8)
    const ids = await h.addKeys('openai', keys)
    const res = await post('/api/openai/chat/completions', asBearer, chat(RESTRICTED_OPENAI_MODEL))
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({ error: { code: 'model_not_found' } })
    expect(clientCalls()).toHaveLength(1)
    await untouched(ids)
    await everyKeyServes(keys, () => post('/api/openai/chat/completions', asBearer, chat('gpt-4o-mini')))
  })

  test("OpenAI: the client's OpenAI-Organization and OpenAI-Project never reach upstream; the pool key answers as its own account", async () => {
    const keys = freshKeys(openaiKey, 6)
    const ids = await h.addKeys('openai', keys)
    const headers = { ...asBearer, 'openai-organization': 'org-someone-else', 'openai-project': 'proj_other' }
    for (let i = 0; i < 6; i++) {
      expect((await post('/api/openai/chat/completions', headers, chat('gpt-4o-mini'))).status).toBe(200)
    }
    for (const seen of h.gateway.requests) {
      expect(seen.headers['openai-organization']).toBeUndefined()
      expect(seen.headers['openai-project']).toBeUndefined()
    }
    await untouched(ids)
  })

  test("Google: the client's X-Goog-User-Project never reaches upstream", async () => {
    await h.addKeys('google-ai-studio', freshKeys(googleKey, 1))
    const res = await post(
      GEMINI_PATH,
      { ...asGoogle, 'x-goog-user-project': 'someone-elses' },
      {
        contents: [{ parts: [{ text: 'Hi' }] }],
      },
    )
    expect(res.status).toBe(200)
    expect(h.gateway.requests[0]?.headers['x-goog-user-project']).toBeUndefined()
  })

  test('Anthropic: a resource the key may not use (403 permission_error) is relayed, keys stay', async () => {
    const keys = freshKeys(anthropicKey, 4)
    const ids = await h.addKeys('anthropic', keys)
    const withFile = message({
      messages: [
        { role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: 'file_011' } }] },
      ],
    })
    const res = await post('/api/anthropic/v1/messages', asAnthropic, withFile)
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({ error: { type: 'permission_error' } })
    expect(clientCalls()).toHaveLength(1)
    await untouched(ids)
    await everyKeyServes(keys, () => post('/api/anthropic/v1/messages', asAnthropic, message()))
  })

  test.each([
    ['the native route', '/api/anthropic/v1/messages'],
    ['/api/compat/messages', '/api/compat/messages'],
  ])(
    'Anthropic: a beta value quoting "credit balance is too low" comes back in a 400 and cools nothing (%s)',
    async (_name, path) => {
      const keys = freshKeys(anthropicKey, 4)
      const ids = await h.addKeys('anthropic', keys)
      const model = path.includes('compat') ? 'anthropic/claude-sonnet-4-5' : 'claude-sonnet-4-5'
      const headers = { ...asAnthropic, 'anthropic-beta': 'your credit balance is too low' }
      const res = await post(path, headers, message({ model }))
      expect(res.status).toBe(400)
      expect(JSON.stringify(await res.json())).toContain('credit balance is too low')
      expect(clientCalls()).toHaveLength(1)
      await untouched(ids)
    },
  )

  test('OpenRouter: "requires more credits, or fewer max_tokens" (402) is the caller\'s to fix; no key cools', async () => {
    const keys = freshKeys(openrouterKey, 4)
    const ids = await h.addKeys('openrouter', keys)
    const res = await post(
      '/api/openrouter/chat/completions',
      asBearer,
      chat('openai/gpt-4o-mini', { max_tokens: 200_001 }),
    )
    expect(res.status).toBe(402)
    expect(clientCalls()).toHaveLength(1)
    await untouched(ids)
    await everyKeyServes(keys, () =>
      post('/api/openrouter/chat/completions', asBearer, chat('openai/gpt-4o-mini', { max_tokens: 100 })),
    )
  })
})

describe("the provider's own codes still act", () => {
  test('an empty Anthropic balance (400 beginning with its sentence) cools the key for every model', async () => {
    const [empty, good] = freshKeys(anthropicKey, 2)
    const [emptyId] = await h.addKeys('anthropic', [empty!, good!])
    h.gateway.on(empty!, () => new Response(f.anthropicLowCredit, { status: 400, headers: json }))
    for (let i = 0; i < 2; i++) {
      expect((await post('/api/anthropic/v1/messages', asAnthropic, message())).status).toBe(200)
    }
    const cooled = await cooldownsOf(h.d1, emptyId!)
    expect(cooled['*']).toBeGreaterThan(Date.now() / 1000 + 3600)
  })

  test('an empty OpenRouter account (402 Insufficient credits) cools the key for every model', async () => {
    const [empty, good] = freshKeys(openrouterKey, 2)
    const [emptyId] = await h.addKeys('openrouter', [empty!, good!])
    h.gateway.on(empty!, () => new Response(f.openrouterNoCredits, { status: 402, headers: json }))
    for (let i = 0; i < 2; i++) {
      const res = await post('/api/openrouter/chat/completions', asBearer, chat('openai/gpt-4o-mini'))
      expect(res.status).toBe(200)
    }
    expect((await cooldownsOf(h.d1, emptyId!))['*']).toBeGreaterThan(Date.now() / 1000 + 3600)
  })
})

describe('a 401/403 that names no cause is proved before anything happens to the key', () => {
  test('a dead key (its check fails too) is blocked by the proof; the request was served by the next key', async () => {
    const [dead, good] = freshKeys(openrouterKey, 2)
    const [deadId] = await h.addKeys('openrouter', [dead!, good!])
    h.gateway.on(dead!, () => new Response(f.openrouterUserNotFound, { status: 401, headers: json }))
    // Until the first request meets the dead key.
    for (let i = 0; i < 2; i++) {
      const res = await post('/api/openrouter/chat/completions', asBearer, chat('openai/gpt-4o-mini'))
      expect(res.status).toBe(200)
    }
    await expect.poll(async () => (await keyRow(h.d1, deadId!))?.status).toBe('blocked')
    expect((await keyRow(h.d1, deadId!))?.blocked_reason).toBe('401 401')
    // The proof was OpenRouter's key endpoint (its model list answers without any key).
    const proof = h.gateway.requests.find((r) => r.key === dead && r.method === 'GET')
    expect(proof?.path).toBe('key')
  })

  test("a live key (its check passes) is left alone, and the client gets the provider's answer", async () => {
    const keys = freshKeys(googleKey, 4)
    const ids = await h.addKeys('google-ai-studio', keys)
    const res = await post(GEMINI_PATH, asGoogle, {
      cachedContent: 'cachedContents/someone-elses',
      contents: [{ parts: [{ text: 'Hi' }] }],
    })
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({ error: { status: 'PERMISSION_DENIED' } })
    // The second refusal says the request is the cause: no third key is asked.
    expect(clientCalls()).toHaveLength(2)
    // Both suspects were checked, and both checks passed.
    await expect.poll(() => h.gateway.requests.filter((r) => r.method === 'GET').length).toBe(2)
    await untouched(ids)
    await everyKeyServes(keys, () => post(GEMINI_PATH, asGoogle, { contents: [{ parts: [{ text: 'Hi' }] }] }))
  })

  test('a key is proved at most once in a while: the same hostile request again checks nothing new', async () => {
    const keys = freshKeys(googleKey, 2)
    await h.addKeys('google-ai-studio', keys)
    const hostile = { cachedContent: 'cachedContents/x', contents: [{ parts: [{ text: 'Hi' }] }] }
    for (let i = 0; i < 5; i++) expect((await post(GEMINI_PATH, asGoogle, hostile)).status).toBe(403)
    await expect.poll(() => h.gateway.requests.filter((r) => r.method === 'GET').length).toBe(2)
  })
})

describe('one request punishes a few keys at most', () => {
  test('with every key dead, one request blocks three and answers with what it saw', async () => {
    const keys = freshKeys(googleKey, 6)
    const ids = await h.addKeys('google-ai-studio', keys)
    for (const k of keys) h.gateway.on(k, () => replies.googleInvalidKey())
    const res = await post(GEMINI_PATH, asGoogle, { contents: [{ parts: [{ text: 'Hi' }] }] })
    expect(res.status).toBe(400)
    expect(clientCalls()).toHaveLength(3)
    const statuses = await Promise.all(ids.map(async (id) => (await keyRow(h.d1, id))?.status))
    expect(statuses.filter((s) => s === 'blocked')).toHaveLength(3)
  })
})

describe('durations a provider sends are bounded', () => {
  test.each([['99999999999'], ['9'.repeat(400)]])(
    'retry-after: %s cools for the default minute, not until the year 5200',
    async (retryAfter) => {
      const [limited, good] = freshKeys(openaiKey, 2)
      const [limitedId] = await h.addKeys('openai', [limited!, good!])
      h.gateway.on(limited!, () => replies.openaiRateLimit({ 'retry-after': retryAfter }))
      for (let i = 0; i < 2; i++) {
        expect((await post('/api/openai/chat/completions', asBearer, chat('gpt-4o-mini'))).status).toBe(200)
      }
      const until = (await cooldownsOf(h.d1, limitedId!))['gpt-4o-mini']!
      expect(until - Date.now() / 1000).toBeGreaterThan(50)
      expect(until - Date.now() / 1000).toBeLessThan(70)
    },
  )
})
