import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { AUTH_KEY, startWorker, type Harness } from './harness'
import { anthropicKey, errorCode, googleKey, openaiKey } from './helpers'

// What a pool key's account stores (files, batches, stored completions and responses) is shared by
// every client of the pool: refused unless the operator allows it with STORED_OBJECTS (issue 23).
const OPENAI_ONLY = 'kr-openai-only-client-7d1f'
const authKey = `${AUTH_KEY};${OPENAI_ONLY}=openai`

async function withKeys(vars: Record<string, string> = {}): Promise<Harness> {
  const h = await startWorker({ authKey, vars })
  await h.addKeys('openai', [openaiKey(1)])
  await h.addKeys('google-ai-studio', [googleKey(1)])
  await h.addKeys('anthropic', [anthropicKey(1)])
  return h
}

const STORED: [string, string][] = [
  ['GET', '/api/openai/chat/completions'],
  ['GET', '/api/openai/chat/completions/chatcmpl-abc/messages'],
  ['DELETE', '/api/openai/chat/completions/chatcmpl-abc'],
  ['GET', '/api/openai/responses/resp_abc'],
  ['GET', '/api/openai/responses/resp_abc/input_items'],
  ['GET', '/api/openai/files'],
  ['DELETE', '/api/openai/files/file-abc'],
  ['GET', '/api/openai/batches'],
  ['GET', '/api/openai/vector_stores'],
  ['GET', '/api/google-ai-studio/v1beta/files'],
  ['GET', '/api/google-ai-studio/v1beta/cachedContents'],
  ['GET', '/api/anthropic/v1/files'],
  ['GET', '/api/anthropic/v1/messages/batches'],
]

const call = (h: Harness, method: string, path: string, secret: string) =>
  h.fetch(path, { method, headers: { authorization: `Bearer ${secret}` } })

describe('STORED_OBJECTS=off (the default)', () => {
  let h: Harness
  beforeAll(async () => {
    h = await withKeys()
  })
  afterAll(() => h.dispose())

  test.each(STORED)(
    '%s %s: 403 stored_objects_disabled for every client, nothing sent',
    async (method, path) => {
      for (const secret of [OPENAI_ONLY, AUTH_KEY]) {
        const res = await call(h, method, path, secret)
        if (secret === OPENAI_ONLY && !path.startsWith('/api/openai/')) {
          expect(res.status).toBe(403) // another provider: refused for that already
          continue
        }
        expect(res.status, `${secret === AUTH_KEY ? 'admin' : 'client'} ${path}`).toBe(403)
        expect(await errorCode(res)).toBe('stored_objects_disabled')
      }
      expect(h.gateway.requests).toHaveLength(0)
    },
  )

  test('running a model still works: chat completions and responses are created', async () => {
    const headers = { authorization: `Bearer ${OPENAI_ONLY}`, 'content-type': 'application/json' }
    const chat = await h.fetch('/api/openai/chat/completions', {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
    })
    expect(chat.status).toBe(200)
    const response = await h.fetch('/api/openai/responses', {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: 'gpt-4o-mini', input: 'Hi' }),
    })
    expect(response.status).toBe(200)
  })

  test('/api/compat/responses on OpenAI sends store: false; asking to store is refused', async () => {
    h.gateway.reset()
    const headers = { authorization: `Bearer ${OPENAI_ONLY}`, 'content-type': 'application/json' }
    const send = (extra: object) =>
      h.fetch('/api/compat/responses', {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: 'openai/gpt-4o-mini', input: 'Hi', ...extra }),
      })
    expect((await send({})).status).toBe(200)
    expect(JSON.parse(h.gateway.requests[0]!.body)).toMatchObject({ store: false })
    const refused = await send({ store: true })
    expect(refused.status).toBe(403)
    expect(await errorCode(refused)).toBe('stored_objects_disabled')
    expect(h.gateway.requests).toHaveLength(1)
  })
})

describe('STORED_OBJECTS=admin', () => {
  let h: Harness
  beforeAll(async () => {
    h = await withKeys({ STORED_OBJECTS: 'admin' })
  })
  afterAll(() => h.dispose())

  test('the unrestricted AUTH_KEY reaches them; a restricted client still cannot', async () => {
    expect((await call(h, 'GET', '/api/openai/files', AUTH_KEY)).status).toBe(200)
    expect(h.gateway.requests.at(-1)?.path).toBe('files')
    const client = await call(h, 'GET', '/api/openai/files', OPENAI_ONLY)
    expect(client.status).toBe(403)
    expect(await errorCode(client)).toBe('stored_objects_disabled')
  })

  test('/api/compat/responses leaves store as the unrestricted client sent it', async () => {
    h.gateway.reset()
    const res = await h.fetch('/api/compat/responses', {
      method: 'POST',
      headers: { authorization: `Bearer ${AUTH_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', input: 'Hi' }),
    })
    expect(res.status).toBe(200)
    expect(JSON.parse(h.gateway.requests[0]!.body)).not.toHaveProperty('store')
  })
})
