import { createGoogleGenerativeAI } from '@ai-sdk/google'
import { GoogleGenAI, Type } from '@google/genai'
import { ChatOpenAI } from '@langchain/openai'
import { embed, embedMany, generateText } from 'ai'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import * as z from 'zod'
import { AUTH_KEY, cooldownsOf, keyRow, startWorker, type Harness } from './harness'
import { anthropicKey, googleKey, openaiKey } from './helpers'

// The stand-in gateway answers like a real account: each provider's real paths with the real body
// shapes, and a 404 in the provider's own shape for anything else. Real clients run against it.
let h: Harness
let ids: number[]
beforeAll(async () => {
  h = await startWorker()
  ids = [
    ...(await h.addKeys('google-ai-studio', [googleKey(1)])),
    ...(await h.addKeys('openai', [openaiKey(1)])),
    ...(await h.addKeys('anthropic', [anthropicKey(1)])),
  ]
})
afterAll(() => h.dispose())
beforeEach(() => h.gateway.reset())

describe('a path the provider does not have is a 404 in its own shape, and costs no key anything', () => {
  test.each([
    [
      'Google, v1beta doubled',
      '/api/google-ai-studio/v1beta/v1beta/models/gemini-2.5-flash:generateContent',
      { 'x-goog-api-key': AUTH_KEY },
      { error: { code: 404, status: 'NOT_FOUND' } },
    ],
    [
      'Google, a method models do not have',
      '/api/google-ai-studio/v1beta/models/gemini-2.5-flash:generateEverything',
      { 'x-goog-api-key': AUTH_KEY },
      { error: { code: 404, status: 'NOT_FOUND' } },
    ],
    [
      'OpenAI, an unknown path',
      '/api/openai/bogus/path',
      { authorization: `Bearer ${AUTH_KEY}` },
      { error: { message: 'Invalid URL (POST /v1/bogus/path)', type: 'invalid_request_error' } },
    ],
    [
      'OpenAI, /v1 doubled',
      '/api/openai/v1/chat/completions',
      { authorization: `Bearer ${AUTH_KEY}` },
      { error: { message: 'Invalid URL (POST /v1/v1/chat/completions)' } },
    ],
    [
      'Anthropic, an unknown path',
      '/api/anthropic/v1/bogus',
      { 'x-api-key': AUTH_KEY },
      { type: 'error', error: { type: 'not_found_error' } },
    ],
  ])('%s', async (_name, path, auth, shape) => {
    const res = await h.fetch(path, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"model":"gpt-4o-mini","messages":[]}',
    })
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject(shape)
    expect(h.gateway.requests).toHaveLength(1)
    for (const id of ids) {
      expect((await keyRow(h.d1, id))?.status).toBe('active')
      expect(await cooldownsOf(h.d1, id)).toEqual({})
    }
  })
})

describe('@google/genai against /api/google-ai-studio', () => {
  const genai = () =>
    new GoogleGenAI({
      apiKey: AUTH_KEY,
      httpOptions: { baseUrl: `${h.url}/api/google-ai-studio`, retryOptions: { attempts: 1 } },
    })

  test('embedContent: one vector per input', async () => {
    const res = await genai().models.embedContent({
      model: 'gemini-embedding-001',
      contents: ['first', 'second'],
    })
    expect(res.embeddings).toHaveLength(2)
    expect(res.embeddings?.[0]?.values).toHaveLength(3)
  })

  test('countTokens', async () => {
    const res = await genai().models.countTokens({ model: 'gemini-2.5-flash', contents: 'Hello there' })
    expect(res.totalTokens).toBeGreaterThan(0)
    expect(h.gateway.requests[0]?.path).toBe('v1beta/models/gemini-2.5-flash:countTokens')
  })

  test('models.list', async () => {
    const names: string[] = []
    for await (const model of await genai().models.list()) names.push(model.name ?? '')
    expect(names).toContain('models/gemini-2.5-flash')
    expect(h.gateway.requests[0]?.path).toBe('v1beta/models')
  })

  test('a function call, on the native route', async () => {
    const res = await genai().models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Weather in Paris?',
      config: {
        tools: [
          {
            functionDeclarations: [
              {
                name: 'get_weather',
                parameters: {
                  type: Type.OBJECT,
                  properties: { city: { type: Type.STRING } },
                  required: ['city'],
                },
              },
            ],
          },
        ],
      },
    })
    expect(res.functionCalls?.[0]).toMatchObject({ name: 'get_weather', args: { city: 'Paris' } })
  })

  test('JSON output that follows the schema asked for', async () => {
    const res = await genai().models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'A city and its population',
      config: {
        responseMimeType: 'application/json',
        responseSchema: {
          type: Type.OBJECT,
          properties: { city: { type: Type.STRING }, population: { type: Type.INTEGER } },
        },
      },
    })
    expect(JSON.parse(res.text ?? '')).toEqual({ city: 'Paris', population: 21 })
  })
})

describe('LangChain against /api/compat', () => {
  test('withStructuredOutput returns the parsed object', async () => {
    const model = new ChatOpenAI({
      model: 'openai/gpt-4o-mini',
      apiKey: AUTH_KEY,
      maxRetries: 0,
      configuration: { baseURL: `${h.url}/api/compat` },
    })
    const schema = z.object({ city: z.string(), population: z.number() })
    const result = await model.withStructuredOutput(schema).invoke('A city and its population')
    expect(result).toEqual({ city: 'Paris', population: 21.5 })
  })
})

describe('@ai-sdk/google against /api/google-ai-studio/v1beta', () => {
  const google = () =>
    createGoogleGenerativeAI({ apiKey: AUTH_KEY, baseURL: `${h.url}/api/google-ai-studio/v1beta` })

  test('generateText', async () => {
    const { text } = await generateText({
      model: google()('gemini-2.5-flash'),
      prompt: 'Hello',
      maxRetries: 0,
    })
    expect(text).toBe('Hello from Gemini')
  })

  test('embed and embedMany: one vector per value', async () => {
    const one = await embed({
      model: google().textEmbeddingModel('gemini-embedding-001'),
      value: 'a',
      maxRetries: 0,
    })
    expect(one.embedding).toHaveLength(3)
    const many = await embedMany({
      model: google().textEmbeddingModel('gemini-embedding-001'),
      values: ['a', 'b', 'c'],
      maxRetries: 0,
    })
    expect(many.embeddings).toHaveLength(3)
  })
})
