import Anthropic from '@anthropic-ai/sdk'
import { GoogleGenAI } from '@google/genai'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { replies } from './gateway/replies'
import { AUTH_KEY, cooldownsOf, startWorker, type Harness } from './harness'
import { anthropicKey, googleKey } from './helpers'

let h: Harness
let googleIds: number[]
let anthropicIds: number[]
beforeAll(async () => {
  h = await startWorker()
  googleIds = await h.addKeys('google-ai-studio', [googleKey(1), googleKey(2)])
  anthropicIds = await h.addKeys('anthropic', [anthropicKey(1), anthropicKey(2)])
})
afterAll(() => h.dispose())
beforeEach(() => h.gateway.reset())

describe('@google/genai against /api/google-ai-studio', () => {
  const genai = () =>
    new GoogleGenAI({
      apiKey: AUTH_KEY,
      httpOptions: { baseUrl: `${h.url}/api/google-ai-studio`, retryOptions: { attempts: 1 } },
    })

  test('generateContent, rotating past a per-minute 429', async () => {
    h.gateway.on(googleKey(1), () => replies.googleMinute429())
    for (let i = 0; i < 2; i++) {
      const res = await genai().models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello' })
      expect(res.text).toBe('Hello from Gemini')
    }
    expect(h.gateway.callsFor(googleKey(1))).toBe(1)
    expect(Object.keys(await cooldownsOf(h.d1, googleIds[0]!))).toEqual(['gemini-2.5-flash'])
    for (const r of h.gateway.requests) {
      expect(r.path).toBe('v1beta/models/gemini-2.5-flash:generateContent')
      expect(r.headers['x-goog-api-key']).toBe(r.key)
    }
    expect(h.gateway.violations).toEqual([])
  })

  test('generateContentStream, rotating past a daily 429', async () => {
    h.gateway.on(googleKey(2), () => replies.googleDaily429())
    h.gateway.on(googleKey(1), () =>
      replies.sse([
        'data: {"candidates":[{"content":{"parts":[{"text":"Once "}],"role":"model"},"index":0}]}\r\n\r\n',
        'data: {"candidates":[{"content":{"parts":[{"text":"upon a time"}],"role":"model"},"finishReason":"STOP","index":0}]}\r\n\r\n',
      ]),
    )
    // Key 1's per-minute cooldown from the test above is for another model.
    const texts: string[] = []
    for (let i = 0; i < 2; i++) {
      const stream = await genai().models.generateContentStream({
        model: 'gemini-2.0-flash',
        contents: 'Story',
      })
      let text = ''
      for await (const chunk of stream) text += chunk.text ?? ''
      texts.push(text)
    }
    expect(texts).toEqual(['Once upon a time', 'Once upon a time'])
    expect(h.gateway.requests.every((r) => r.url.includes(':streamGenerateContent?alt=sse'))).toBe(true)
    expect((await cooldownsOf(h.d1, googleIds[1]!))['gemini-2.0-flash']).toBeGreaterThan(
      Date.now() / 1000 + 60,
    )
  })
})

describe('@anthropic-ai/sdk against /api/anthropic', () => {
  const client = () => new Anthropic({ apiKey: AUTH_KEY, baseURL: `${h.url}/api/anthropic`, maxRetries: 0 })

  test('messages.create, rotating past a 429 with retry-after', async () => {
    h.gateway.on(anthropicKey(1), () => replies.anthropicRateLimit('45'))
    for (let i = 0; i < 2; i++) {
      const msg = await client().messages.create({
        model: 'claude-opus-4-5',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'Hello' }],
      })
      expect(msg.content[0]).toMatchObject({ type: 'text', text: 'Hello from Claude' })
    }
    const left = (await cooldownsOf(h.d1, anthropicIds[0]!))['claude-opus-4-5']! - Date.now() / 1000
    expect(left).toBeGreaterThan(40)
    expect(left).toBeLessThanOrEqual(47)
    for (const r of h.gateway.requests) {
      expect(r.path).toBe('v1/messages')
      expect(r.headers['x-api-key']).toBe(r.key)
      // The SDK's own API version travels on (it is not a credential).
      expect(r.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    }
    expect(h.gateway.violations).toEqual([])
  })

  test('messages.stream yields the text as it arrives', async () => {
    const stream = client().messages.stream({
      model: 'claude-haiku-4-5',
      max_tokens: 50,
      messages: [{ role: 'user', content: 'Hello' }],
    })
    const deltas: string[] = []
    stream.on('text', (t) => deltas.push(t))
    const final = await stream.finalMessage()
    expect(deltas).toEqual(['Hello', ' from Claude'])
    expect(final.stop_reason).toBe('end_turn')
  })

  test('every key cooling: the SDK raises RateLimitError with retry-after', async () => {
    h.gateway.on(anthropicKey(2), () => replies.anthropicRateLimit('45'))
    // Key 1 is still cooling from the first test; key 2 gets its 429 now.
    await client()
      .messages.create({
        model: 'claude-opus-4-5',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      })
      .catch(() => undefined)
    const error = await client()
      .messages.create({
        model: 'claude-opus-4-5',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Anthropic.RateLimitError)
    expect(
      Number((error as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after')),
    ).toBeGreaterThan(30)
  })
})
