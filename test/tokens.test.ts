import Anthropic from '@anthropic-ai/sdk'
import { GoogleGenAI } from '@google/genai'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { AUTH_KEY, startWorker, type Harness } from './harness'
import { adminHeaders, anthropicKey, errorCode, googleKey, openaiKey } from './helpers'

// Tokens counted from every answer that reports them (issue 25), per pool key and per client key,
// through the real SDKs: each figure is the stand-in's own `usage` for that answer, streams included.
let h: Harness
let ids: { google: number; openai: number; anthropic: number }

beforeAll(async () => {
  h = await startWorker({ vars: { STATS_FLUSH_SECONDS: '1' } })
  const [google] = await h.addKeys('google-ai-studio', [googleKey(1)])
  const [openai] = await h.addKeys('openai', [openaiKey(1)])
  const [anthropic] = await h.addKeys('anthropic', [anthropicKey(1)])
  ids = { google: google!, openai: openai!, anthropic: anthropic! }
})
afterAll(() => h.dispose())
beforeEach(() => h.gateway.reset())

interface Tokens {
  inputTokens: number
  outputTokens: number
  cachedTokens: number
}
interface KeyTotals extends Tokens {
  requests: number
}

/** Each pool key's totals since the start, once the usage flush has written them. */
async function keyTotals(): Promise<Map<number, KeyTotals>> {
  const res = await h.fetch('/admin/api/stats?since=0', { headers: adminHeaders() })
  const body = (await res.json()) as { keys: { id: number; totals: KeyTotals }[] }
  return new Map(body.keys.map((k) => [k.id, k.totals]))
}

/** Waits for the flush, then what the tokens of `id` grew by since `before`. */
async function grewBy(id: number, before: Map<number, KeyTotals>): Promise<Tokens> {
  const zero = { requests: 0, inputTokens: 0, outputTokens: 0, cachedTokens: 0 }
  let now = before
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300))
    now = await keyTotals()
    const a = now.get(id) ?? zero
    const b = before.get(id) ?? zero
    if (a.inputTokens + a.outputTokens > b.inputTokens + b.outputTokens) break
  }
  const a = now.get(id) ?? zero
  const b = before.get(id) ?? zero
  return {
    inputTokens: a.inputTokens - b.inputTokens,
    outputTokens: a.outputTokens - b.outputTokens,
    cachedTokens: a.cachedTokens - b.cachedTokens,
  }
}

const tokens = (inputTokens: number, outputTokens: number, cachedTokens = 0) => ({
  inputTokens,
  outputTokens,
  cachedTokens,
})

const compat = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${h.url}/api/compat`, maxRetries: 0 })

describe('per pool key, from every format', () => {
  test('compat chat: the answer usage (openai SDK)', async () => {
    const before = await keyTotals()
    const r = await compat(AUTH_KEY).chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello' }],
    })
    expect(r.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 4 })
    expect(await grewBy(ids.openai, before)).toEqual(tokens(5, 4))
  })

  test('compat chat stream without include_usage: asked for upstream, counted, kept from the client', async () => {
    const before = await keyTotals()
    const stream = await compat(AUTH_KEY).chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello' }],
      stream: true,
    })
    const chunks = []
    for await (const c of stream) chunks.push(c)
    // The client gets the stream it asked for: no chunk without choices, no usage anywhere.
    expect(chunks.length).toBeGreaterThan(0)
    expect(chunks.every((c) => c.choices.length > 0 && !c.usage)).toBe(true)
    const sent = JSON.parse(h.gateway.requests.at(-1)!.body) as {
      stream_options?: object
      temperature?: number
    }
    expect(sent.stream_options).toEqual({ include_usage: true })
    expect(await grewBy(ids.openai, before)).toEqual(tokens(5, 2))
  })

  test('compat chat stream that asks for usage gets its usage chunk, counted once', async () => {
    const before = await keyTotals()
    const stream = await compat(AUTH_KEY).chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    let usage
    for await (const c of stream) if (c.usage) usage = c.usage
    expect(usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 2 })
    expect(await grewBy(ids.openai, before)).toEqual(tokens(5, 2))
  })

  test('cached prompt tokens are counted as input and as cached', async () => {
    h.gateway.on(openaiKey(1), () =>
      Response.json({
        id: 'chatcmpl-cached',
        object: 'chat.completion',
        created: 1_700_000_000,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
        usage: {
          prompt_tokens: 2006,
          completion_tokens: 300,
          total_tokens: 2306,
          prompt_tokens_details: { cached_tokens: 1920 },
        },
      }),
    )
    const before = await keyTotals()
    await compat(AUTH_KEY).chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello' }],
    })
    expect(await grewBy(ids.openai, before)).toEqual(tokens(2006, 300, 1920))
  })

  test('Google native, plain and streamed (@google/genai): usageMetadata', async () => {
    const genai = new GoogleGenAI({
      apiKey: AUTH_KEY,
      httpOptions: { baseUrl: `${h.url}/api/google-ai-studio`, retryOptions: { attempts: 1 } },
    })
    let before = await keyTotals()
    const r = await genai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'Hello' })
    expect(r.usageMetadata).toMatchObject({ promptTokenCount: 4, candidatesTokenCount: 4 })
    expect(await grewBy(ids.google, before)).toEqual(tokens(4, 4))

    before = await keyTotals()
    let last
    for await (const c of await genai.models.generateContentStream({
      model: 'gemini-2.5-flash',
      contents: 'Hi',
    }))
      last = c.usageMetadata ?? last
    // Running totals on every chunk: the last one is the answer's.
    expect(last).toMatchObject({ promptTokenCount: 4, candidatesTokenCount: 2 })
    expect(await grewBy(ids.google, before)).toEqual(tokens(4, 2))
  })

  test('Anthropic native, plain and streamed (@anthropic-ai/sdk): message_start and message_delta', async () => {
    const anthropic = new Anthropic({ apiKey: AUTH_KEY, baseURL: `${h.url}/api/anthropic`, maxRetries: 0 })
    let before = await keyTotals()
    const m = await anthropic.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hello' }],
    })
    expect(m.usage).toMatchObject({ input_tokens: 5, output_tokens: 4 })
    expect(await grewBy(ids.anthropic, before)).toEqual(tokens(5, 4))

    before = await keyTotals()
    const final = await anthropic.messages
      .stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] })
      .finalMessage()
    expect(final.usage).toMatchObject({ input_tokens: 5, output_tokens: 4 })
    expect(await grewBy(ids.anthropic, before)).toEqual(tokens(5, 4))
  })

  test('the Responses and Messages translations count the upstream chat usage they translate', async () => {
    let before = await keyTotals()
    const stream = await compat(AUTH_KEY).responses.create({
      model: 'google-ai-studio/gemini-2.5-flash',
      input: 'Hello',
      stream: true,
    })
    let completed
    for await (const e of stream) if (e.type === 'response.completed') completed = e.response.usage
    expect(completed).toMatchObject({ input_tokens: 5, output_tokens: 2 })
    expect(await grewBy(ids.google, before)).toEqual(tokens(5, 2))

    before = await keyTotals()
    const claude = new Anthropic({ apiKey: AUTH_KEY, baseURL: `${h.url}/api/compat`, maxRetries: 0 })
    const m = await claude.messages
      .stream({
        model: 'google-ai-studio/gemini-2.5-flash',
        max_tokens: 64,
        messages: [{ role: 'user', content: 'Hi' }],
      })
      .finalMessage()
    expect(m.usage).toMatchObject({ input_tokens: 5, output_tokens: 2 })
    expect(await grewBy(ids.google, before)).toEqual(tokens(5, 2))
  })
})

describe('per client key', () => {
  test('usage in tokens today and this month, and a tokens-per-day quota enforced on it', async () => {
    const { id, key } = await h.issueClient({ name: 'tokens', quotas: { tokensPerDay: 10 } })
    const client = compat(key)
    const ask = () =>
      client.chat.completions.create({
        model: 'openai/gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hi' }],
      })
    await ask() // 9 tokens (5 in, 4 out)
    await ask() // 18: over from the next request on
    const over = await ask().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(over).toBeInstanceOf(OpenAI.RateLimitError)
    expect(over).toMatchObject({ status: 429, code: 'quota_tokens_per_day' })
    // Counted in D1 with the usage flush: what the dashboard and the admin API show.
    await expect
      .poll(
        async () => {
          const res = await h.fetch(`/admin/api/clients/${id}`, { headers: adminHeaders() })
          return ((await res.json()) as { client: { usage: { today: object; month: object } } }).client.usage
        },
        { timeout: 10_000, interval: 300 },
      )
      .toEqual({
        today: { requests: 2, inputTokens: 10, outputTokens: 8, cachedTokens: 0, tokens: 18 },
        month: { requests: 2, inputTokens: 10, outputTokens: 8, cachedTokens: 0, tokens: 18 },
      })
    const refused = await h.fetch('/api/compat/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
    })
    expect(await errorCode(refused)).toBe('quota_tokens_per_day')
  })
})

describe('the usage export', () => {
  test('per client, per pool key and model, per model: JSON and CSV, read from what was flushed', async () => {
    const { id, key } = await h.issueClient({ name: '=HYPERLINK("x"), team' })
    await compat(key).chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
    })
    const today = new Date().toISOString().slice(0, 10)
    const get = (query: string) => h.fetch(`/admin/api/usage${query}`, { headers: adminHeaders() })
    await expect
      .poll(
        async () => {
          const body = (await (await get('?by=client&days=1')).json()) as { rows: { clientId: number }[] }
          return body.rows.find((r) => r.clientId === id)
        },
        { timeout: 10_000, interval: 300 },
      )
      .toEqual({
        day: today,
        clientId: id,
        client: '=HYPERLINK("x"), team',
        requests: 1,
        inputTokens: 5,
        outputTokens: 4,
        cachedTokens: 0,
        tokens: 9,
      })

    const csv = await get('?by=client&days=1&format=csv')
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    const lines = (await csv.text()).trim().split('\r\n')
    expect(lines[0]).toBe('day,clientId,client,requests,inputTokens,outputTokens,cachedTokens,tokens')
    // Quoted, and never a formula when a spreadsheet opens it.
    expect(lines).toContain(`${today},${id},"'=HYPERLINK(""x""), team",1,5,4,0,9`)

    // The pool key's rows carry every token this file's requests reported, by model.
    const byKey = (await (await get('?by=key&days=1')).json()) as {
      rows: { keyId: number; model: string; inputTokens: number; outputTokens: number }[]
    }
    const openaiRow = byKey.rows.find((r) => r.keyId === ids.openai && r.model === 'gpt-4o-mini')
    const stats = (await keyTotals()).get(ids.openai)!
    expect(openaiRow).toMatchObject({ inputTokens: stats.inputTokens, outputTokens: stats.outputTokens })
    const byModel = (await (await get('?by=model&days=1&format=csv')).text()).split('\r\n')
    expect(byModel[0]).toBe(
      'day,provider,model,requests,successes,rateLimited,errors,inputTokens,outputTokens,cachedTokens',
    )
    expect(byModel.some((l) => l.startsWith(`${today},anthropic,claude-sonnet-4-5,`))).toBe(true)

    const bad = await get('?by=team&days=0')
    expect(bad.status).toBe(400)
    expect(await errorCode(bad)).toBe('invalid_query')
  })
})
