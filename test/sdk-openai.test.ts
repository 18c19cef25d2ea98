import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { replies } from './gateway/replies'
import { AUTH_KEY, keyRow, startWorker, type Harness } from './harness'
import { googleKey, openaiKey } from './helpers'

let h: Harness
let client: OpenAI
let openaiIds: number[]
beforeAll(async () => {
  h = await startWorker({ authKey: `${AUTH_KEY};kr-guest=openai,gpt-4o-mini` })
  openaiIds = await h.addKeys('openai', [openaiKey(1), openaiKey(2)])
  await h.addKeys('google-ai-studio', [googleKey(1)])
  // The SDK's own retries off: the tests must see what keyrelay does.
  client = new OpenAI({ apiKey: AUTH_KEY, baseURL: `${h.url}/api/compat`, maxRetries: 0 })
})
afterAll(() => h.dispose())
beforeEach(() => h.gateway.reset())

describe('chat completions', () => {
  test('a completion goes to the gateway unified endpoint with a pooled key as Bearer', async () => {
    const completion = await client.chat.completions.create({
      model: 'google-ai-studio/gemini-2.5-flash',
      messages: [{ role: 'user', content: 'Hello' }],
    })
    expect(completion.choices[0]?.message.content).toBe('Hello from google-ai-studio/gemini-2.5-flash')
    const seen = h.gateway.requests[0]!
    expect(seen.provider).toBe('compat')
    expect(seen.path).toBe('chat/completions')
    expect(seen.key).toBe(googleKey(1))
    expect(JSON.parse(seen.body).model).toBe('google-ai-studio/gemini-2.5-flash')
    expect(h.gateway.violations).toEqual([])
  })

  test('streaming iterates chunk by chunk, with the usage chunk, to the end', async () => {
    const stream = await client.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    const parts: string[] = []
    let usage: OpenAI.CompletionUsage | null | undefined
    for await (const chunk of stream) {
      parts.push(chunk.choices[0]?.delta.content ?? '')
      if (chunk.usage) usage = chunk.usage
    }
    expect(parts.join('')).toBe('Hello there')
    expect(usage?.total_tokens).toBe(7)
  })

  test('a 429 on one key rotates to the next and cools the first for its provider model', async () => {
    h.gateway.on(openaiKey(1), () => replies.openaiRateLimit({ 'retry-after': '20' }))
    for (let i = 0; i < 2; i++) {
      const c = await client.chat.completions.create({
        model: 'openai/gpt-4o',
        messages: [{ role: 'user', content: 'Hi' }],
      })
      expect(c.choices[0]?.message.content).toContain('Hello')
    }
    const cooldowns = JSON.parse((await keyRow(h.d1, openaiIds[0]!))!.cooldowns) as Record<string, number>
    // The provider's model name: a later native /api/openai call shares the cooldown.
    expect(Object.keys(cooldowns)).toEqual(['gpt-4o'])
  })
})

describe('typed errors', () => {
  test('every key cooling: RateLimitError carrying retry-after, upstream not called', async () => {
    h.gateway.on(openaiKey(1), () => replies.openaiRateLimit({ 'retry-after': '30' }))
    h.gateway.on(openaiKey(2), () => replies.openaiRateLimit({ 'retry-after': '30' }))
    await client.chat.completions
      .create({ model: 'openai/o3-mini', messages: [{ role: 'user', content: 'Hi' }] })
      .catch(() => undefined)
    h.gateway.reset()
    const error = await client.chat.completions
      .create({ model: 'openai/o3-mini', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    const e = error as InstanceType<typeof OpenAI.RateLimitError>
    expect(e.code).toBe('all_keys_cooling')
    expect(Number(e.headers?.get('retry-after'))).toBeGreaterThanOrEqual(29)
    expect(h.gateway.requests).toHaveLength(0)
  })

  test('a wrong AUTH_KEY: AuthenticationError', async () => {
    const bad = new OpenAI({ apiKey: 'wrong', baseURL: `${h.url}/api/compat`, maxRetries: 0 })
    const error = await bad.chat.completions
      .create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError)
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_auth_key')
  })

  test.each([
    ['an unknown provider', 'nope/gpt-4o', 'unknown_provider'],
    ['a model without a provider', 'gpt-4o', 'model_not_found'],
  ])('%s: NotFoundError', async (_name, model, code) => {
    const error = await client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.NotFoundError)
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe(code)
  })

  test('a restricted AUTH_KEY outside its models: PermissionDeniedError', async () => {
    const guest = new OpenAI({ apiKey: 'kr-guest', baseURL: `${h.url}/api/compat`, maxRetries: 0 })
    const error = await guest.chat.completions
      .create({ model: 'google-ai-studio/gemini-2.5-flash', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError)
  })
})

describe('embeddings and models', () => {
  test("embeddings go to the provider's own OpenAI-style endpoint with the bare model name", async () => {
    const openai = await client.embeddings.create({ model: 'openai/text-embedding-3-small', input: 'hello' })
    expect(openai.data[0]?.embedding).toHaveLength(3)
    const google = await client.embeddings.create({
      model: 'google-ai-studio/gemini-embedding-001',
      input: 'hello',
    })
    expect(google.data[0]?.embedding).toHaveLength(3)
    const [first, second] = h.gateway.requests
    expect(first).toMatchObject({
      provider: 'openai',
      path: 'embeddings',
      key: expect.stringMatching(/^sk-proj/),
    })
    expect(JSON.parse(first!.body).model).toBe('text-embedding-3-small')
    expect(second).toMatchObject({
      provider: 'google-ai-studio',
      path: 'v1beta/openai/embeddings',
      key: googleKey(1),
    })
    expect(JSON.parse(second!.body)).toEqual({
      model: 'gemini-embedding-001',
      input: 'hello',
      encoding_format: 'base64',
    })
  })

  test('a provider without an embeddings endpoint: a clear 400', async () => {
    const error = await client.embeddings
      .create({ model: 'anthropic/claude-sonnet-4-5', input: 'hello' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('embeddings_unsupported')
  })

  test('models.list() names <provider>/<model> for every provider with keys, and is cached', async () => {
    const ids: string[] = []
    for await (const m of client.models.list()) ids.push(m.id)
    // Each provider's own list, as the stand-in's accounts list them (test/gateway/*-replies.ts).
    expect(ids.sort()).toEqual([
      'google-ai-studio/gemini-2.0-flash',
      'google-ai-studio/gemini-2.5-flash',
      'google-ai-studio/gemini-2.5-pro',
      'google-ai-studio/gemini-embedding-001',
      'openai/gpt-4.1',
      'openai/gpt-4o',
      'openai/gpt-4o-mini',
      'openai/text-embedding-3-small',
    ])
    const calls = h.gateway.requests.length
    expect(calls).toBe(2)
    for await (const _ of client.models.list()) void _
    expect(h.gateway.requests.length).toBe(calls)
  })

  test('models.list() respects AUTH_KEY restrictions', async () => {
    const guest = new OpenAI({ apiKey: 'kr-guest', baseURL: `${h.url}/api/compat`, maxRetries: 0 })
    const ids: string[] = []
    for await (const m of guest.models.list()) ids.push(m.id)
    expect(ids).toEqual(['openai/gpt-4o-mini'])
  })
})
