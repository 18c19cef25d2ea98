import { createOpenAI } from '@ai-sdk/openai'
import Anthropic from '@anthropic-ai/sdk'
import { ChatOpenAI } from '@langchain/openai'
import { generateText, stepCountIs, streamText, tool } from 'ai'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import * as z from 'zod'
import { replies } from './gateway/replies'
import { AUTH_KEY, cooldownsOf, startWorker, type Harness } from './harness'
import { anthropicKey, googleKey, openaiKey } from './helpers'

// Every client dialect on one pool (issue 13), through the real client packages.
let h: Harness
let googleIds: number[]
beforeAll(async () => {
  h = await startWorker()
  googleIds = await h.addKeys('google-ai-studio', [googleKey(1), googleKey(2)])
  await h.addKeys('openai', [openaiKey(1)])
  await h.addKeys('anthropic', [anthropicKey(1)])
})
afterAll(() => h.dispose())
beforeEach(() => h.gateway.reset())

const GEMINI = 'google-ai-studio/gemini-2.5-flash'
const compat = () => `${h.url}/api/compat`
const openai = (baseURL = compat()) => new OpenAI({ apiKey: AUTH_KEY, baseURL, maxRetries: 0 })
const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Current weather in a city',
  parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  strict: false,
}

describe('OpenAI Responses API on /api/compat/responses', () => {
  test('a Google model: translated to chat completions and back', async () => {
    const r = await openai().responses.create({ model: GEMINI, input: 'Hello', instructions: 'Be brief.' })
    expect(r.object).toBe('response')
    expect(r.status).toBe('completed')
    expect(r.output_text).toBe('Hello from google-ai-studio/gemini-2.5-flash')
    expect(r.usage).toMatchObject({ input_tokens: 5, output_tokens: 4, total_tokens: 9 })
    const sent = JSON.parse(h.gateway.requests[0]!.body) as { model: string; messages: unknown[] }
    expect(h.gateway.requests[0]!.path).toBe('chat/completions')
    expect(sent.model).toBe(GEMINI)
    expect(sent.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello' },
    ])
  })

  test('an OpenAI model goes to OpenAI’s own responses endpoint, as it is', async () => {
    const r = await openai().responses.create({ model: 'openai/gpt-4.1', input: 'Hello' })
    expect(r.output_text).toBe('Hello from gpt-4.1')
    const seen = h.gateway.requests[0]!
    expect(seen.provider).toBe('openai')
    expect(seen.path).toBe('responses')
    expect(JSON.parse(seen.body)).toMatchObject({ model: 'gpt-4.1', input: 'Hello' })
  })

  test('responses.stream() yields the text as it arrives and a final response, translated and native', async () => {
    for (const model of [GEMINI, 'openai/gpt-4.1']) {
      const stream = openai().responses.stream({ model, input: 'Hello' })
      const deltas: string[] = []
      stream.on('response.output_text.delta', (e) => deltas.push(e.delta))
      const final = await stream.finalResponse()
      expect(deltas.length, model).toBeGreaterThan(1)
      expect(deltas.join(''), model).toBe(final.output_text)
      expect(final.status).toBe('completed')
    }
  })

  test('function tools: a call, its output fed back, the answer', async () => {
    const first = await openai().responses.create({
      model: GEMINI,
      input: 'Weather in Paris?',
      tools: [weatherTool],
    })
    const call = first.output.find((o) => o.type === 'function_call')
    expect(call).toMatchObject({
      type: 'function_call',
      name: 'get_weather',
      arguments: '{"location":"Paris"}',
    })
    const sentTools = (JSON.parse(h.gateway.requests[0]!.body) as { tools: unknown[] }).tools
    expect(sentTools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Current weather in a city',
          parameters: weatherTool.parameters,
          strict: false,
        },
      },
    ])
    const second = await openai().responses.create({
      model: GEMINI,
      tools: [weatherTool],
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        call as OpenAI.Responses.ResponseFunctionToolCall,
        {
          type: 'function_call_output',
          call_id: (call as { call_id: string }).call_id,
          output: 'sunny, 21 °C',
        },
      ],
    })
    expect(second.output_text).toBe('The tool said: sunny, 21 °C')
  })

  test('stored-state features are refused with a 400 naming the field', async () => {
    for (const extra of [{ previous_response_id: 'resp_123' }, { store: true }, { background: true }]) {
      const error = await openai()
        .responses.create({ model: GEMINI, input: 'Hi', ...extra })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(OpenAI.BadRequestError)
      expect((error as Error).message).toContain(Object.keys(extra)[0])
    }
    const hosted = await openai()
      .responses.create({ model: GEMINI, input: 'Hi', tools: [{ type: 'web_search_preview' }] })
      .catch((e: unknown) => e)
    expect((hosted as Error).message).toContain('web_search_preview')
    expect(h.gateway.requests).toHaveLength(0)
  })

  test('a 429 seen through /responses rotates and cools the same (key, model) as chat would', async () => {
    h.gateway.on(googleKey(1), () => replies.openaiRateLimit({ 'retry-after': '30' }))
    for (let i = 0; i < 2; i++) {
      const r = await openai().responses.create({ model: GEMINI, input: 'Hello' })
      expect(r.status).toBe('completed')
    }
    expect(Object.keys(await cooldownsOf(h.d1, googleIds[0]!))).toEqual(['gemini-2.5-flash'])
    h.gateway.on(googleKey(1), () => replies.openaiOk())
    await h.fetch(`/admin/api/keys/${googleIds[0]}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${AUTH_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clearCooldowns: true }),
    })
  })
})

describe('/v1 base URLs', () => {
  test('chat and the model list answer on /api/compat/v1 exactly as on /api/compat', async () => {
    const client = openai(`${compat()}/v1`)
    const r = await client.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
    })
    expect(r.choices[0]?.message.content).toBe('Hello from openai/gpt-4o-mini')
    const models = await client.models.list()
    expect(models.data.map((m) => m.id)).toContain('google-ai-studio/gemini-2.5-flash')
  })

  test('an unknown compat route says which routes exist and what base URL to use', async () => {
    const res = await h.fetch('/api/compat/v1/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${AUTH_KEY}` },
    })
    expect(res.status).toBe(404)
    const message = ((await res.json()) as { error: { message: string } }).error.message
    for (const route of ['chat/completions', 'responses', 'messages', 'embeddings', 'models'])
      expect(message).toContain(route)
    expect(message).toContain('/api/compat')
  })
})

describe('the Vercel AI SDK and LangChain (Responses API clients)', () => {
  const provider = () => createOpenAI({ apiKey: AUTH_KEY, baseURL: compat() })

  test('generateText and streamText with the default OpenAI provider', async () => {
    const { text } = await generateText({ model: provider()(GEMINI), prompt: 'Hello' })
    expect(text).toBe('Hello from google-ai-studio/gemini-2.5-flash')
    expect(h.gateway.requests.at(-1)?.path).toBe('chat/completions')
    const result = streamText({ model: provider()(GEMINI), prompt: 'Hello' })
    const parts: string[] = []
    for await (const part of result.textStream) parts.push(part)
    expect(parts.length).toBeGreaterThan(1)
    expect(parts.join('')).toBe('Hello there')
  })

  test('a tool call round trip', async () => {
    const { text, steps } = await generateText({
      model: provider()(GEMINI),
      prompt: 'Weather in Paris?',
      tools: {
        get_weather: tool({
          description: 'Current weather in a city',
          inputSchema: z.object({ location: z.string() }),
          execute: async ({ location }) => `sunny in ${location}`,
        }),
      },
      stopWhen: stepCountIs(2),
    })
    expect(steps[0]?.toolCalls[0]).toMatchObject({ toolName: 'get_weather', input: { location: 'Paris' } })
    expect(text).toBe('The tool said: sunny in Paris')
  })

  test('LangChain ChatOpenAI with useResponsesApi', async () => {
    const model = new ChatOpenAI({
      model: GEMINI,
      apiKey: AUTH_KEY,
      useResponsesApi: true,
      maxRetries: 0,
      configuration: { baseURL: compat() },
    })
    const message = await model.invoke('Hello')
    expect(message.text).toBe('Hello from google-ai-studio/gemini-2.5-flash')
    expect(h.gateway.requests.at(-1)?.path).toBe('chat/completions')
  })
})

describe('Anthropic Messages API on /api/compat/messages', () => {
  const anthropic = () => new Anthropic({ apiKey: AUTH_KEY, baseURL: compat(), maxRetries: 0 })

  test('the Anthropic SDK on a Google model: create', async () => {
    const msg = await anthropic().messages.create({
      model: GEMINI,
      max_tokens: 100,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hello' }],
    })
    expect(msg).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn', model: GEMINI })
    expect(msg.content).toEqual([{ type: 'text', text: 'Hello from google-ai-studio/gemini-2.5-flash' }])
    expect(msg.usage).toMatchObject({ input_tokens: 5, output_tokens: 4 })
    const sent = JSON.parse(h.gateway.requests[0]!.body) as { messages: unknown[]; max_tokens: number }
    expect(sent.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello' },
    ])
    expect(sent.max_tokens).toBe(100)
  })

  test('stream: the SDK assembles the text from Anthropic’s event sequence', async () => {
    const stream = anthropic().messages.stream({
      model: GEMINI,
      max_tokens: 50,
      messages: [{ role: 'user', content: 'Hi' }],
    })
    const deltas: string[] = []
    stream.on('text', (t) => deltas.push(t))
    const final = await stream.finalMessage()
    expect(deltas).toEqual(['Hello', ' there'])
    expect(final.content).toEqual([{ type: 'text', text: 'Hello there' }])
    expect(final.stop_reason).toBe('end_turn')
  })

  test('tool use, streamed and not, and the tool result fed back', async () => {
    const tools = [
      {
        name: 'get_weather',
        description: 'Weather',
        input_schema: {
          type: 'object' as const,
          properties: { city: { type: 'string' } },
          required: ['city'],
        },
      },
    ]
    const first = await anthropic().messages.create({
      model: GEMINI,
      max_tokens: 50,
      tools,
      messages: [{ role: 'user', content: 'Weather?' }],
    })
    expect(first.stop_reason).toBe('tool_use')
    const use = first.content.find((b) => b.type === 'tool_use')
    expect(use).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } })
    const streamed = await anthropic()
      .messages.stream({
        model: GEMINI,
        max_tokens: 50,
        tools,
        messages: [{ role: 'user', content: 'Weather?' }],
      })
      .finalMessage()
    expect(streamed.content.find((b) => b.type === 'tool_use')).toMatchObject({
      name: 'get_weather',
      input: { city: 'Paris' },
    })
    const answer = await anthropic().messages.create({
      model: GEMINI,
      max_tokens: 50,
      tools,
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: (use as { id: string }).id, content: 'rain' }],
        },
      ],
    })
    expect(answer.content).toEqual([{ type: 'text', text: 'The tool said: rain' }])
  })

  test('anthropic/… models pass through to Anthropic’s own endpoint, with x-api-key as the AUTH_KEY', async () => {
    const msg = await anthropic().messages.create({
      model: 'anthropic/claude-sonnet-4-5',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'Hi' }],
    })
    expect(msg.content).toEqual([{ type: 'text', text: 'Hello from Claude' }])
    const seen = h.gateway.requests[0]!
    expect(seen.provider).toBe('anthropic')
    expect(seen.path).toBe('v1/messages')
    expect(JSON.parse(seen.body)).toMatchObject({ model: 'claude-sonnet-4-5' })
    expect(seen.key).toBe(anthropicKey(1))
  })

  test('rotation past a 429, and keyrelay’s own errors as typed Anthropic errors', async () => {
    h.gateway.on(googleKey(2), () => replies.openaiRateLimit({ 'retry-after': '40' }))
    for (let i = 0; i < 10 && h.gateway.callsFor(googleKey(2)) === 0; i++) {
      const msg = await anthropic().messages.create({
        model: GEMINI,
        max_tokens: 10,
        messages: [{ role: 'user', content: 'Hi' }],
      })
      expect(msg.type).toBe('message')
    }
    expect(Object.keys(await cooldownsOf(h.d1, googleIds[1]!))).toEqual(['gemini-2.5-flash'])
    const unknown = await anthropic()
      .messages.create({ model: 'nope/x', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e)
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError)
    const wrongKey = await new Anthropic({ apiKey: 'wrong-key', baseURL: compat(), maxRetries: 0 }).messages
      .create({ model: GEMINI, max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e)
    expect(wrongKey).toBeInstanceOf(Anthropic.AuthenticationError)
    expect((wrongKey as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error' },
    })
  })

  test('count_tokens (Claude Code asks before compacting): Anthropic counts its own models, keyrelay estimates others, and says so', async () => {
    const native = await anthropic().messages.countTokens({
      model: 'anthropic/claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Hello there' }],
    })
    expect(native.input_tokens).toBeGreaterThan(0)
    expect(h.gateway.requests.at(-1)?.path).toBe('v1/messages/count_tokens')
    expect(JSON.parse(h.gateway.requests.at(-1)!.body)).toMatchObject({ model: 'claude-sonnet-4-5' })
    const calls = h.gateway.requests.length
    const estimated = await anthropic()
      .messages.countTokens({ model: GEMINI, messages: [{ role: 'user', content: 'x'.repeat(400) }] })
      .withResponse()
    expect(estimated.data.input_tokens).toBeGreaterThan(100)
    expect(estimated.response.headers.get('x-keyrelay-estimate')).toBe('true')
    expect(h.gateway.requests).toHaveLength(calls)
  })

  test('a base URL that already ends in /v1 works too (the SDK then asks for /v1/v1/messages)', async () => {
    const client = new Anthropic({ apiKey: AUTH_KEY, baseURL: `${compat()}/v1`, maxRetries: 0 })
    const msg = await client.messages.create({
      model: GEMINI,
      max_tokens: 10,
      messages: [{ role: 'user', content: 'Hello' }],
    })
    expect(msg.content[0]).toMatchObject({ type: 'text' })
    const counted = await client.messages.countTokens({
      model: GEMINI,
      messages: [{ role: 'user', content: 'Hi' }],
    })
    expect(counted.input_tokens).toBeGreaterThan(0)
  })
})

describe('browsers', () => {
  test('a preflight is answered, and every answer (errors too) carries CORS for the page to read it', async () => {
    const pre = await h.fetch('/api/compat/chat/completions', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://chat.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    })
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBe('*')
    expect(pre.headers.get('access-control-allow-headers')).toBe('authorization, content-type')
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST')
    const denied = await h.fetch('/api/compat/chat/completions', {
      method: 'POST',
      headers: { origin: 'https://chat.example' },
    })
    expect(denied.status).toBe(401)
    expect(denied.headers.get('access-control-allow-origin')).toBe('*')
    expect(denied.headers.get('access-control-expose-headers')).toContain('retry-after')
    // The admin API grants nothing cross-origin.
    const admin = await h.fetch('/admin/api/keys', {
      headers: { origin: 'https://chat.example', authorization: `Bearer ${AUTH_KEY}` },
    })
    expect(admin.headers.get('access-control-allow-origin')).toBeNull()
  })
})
