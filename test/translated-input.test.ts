import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { replies } from './gateway/replies'
import { AUTH_KEY, startWorker, type Harness } from './harness'
import { googleKey, openaiKey } from './helpers'

// Bad input on the translated routes is the caller's 400 in the dialect's own error shape, never a
// 500; an upstream answer that is not a chat completion is a 502, and a stream event that is not a
// chunk ends the stream with the dialect's error event (issue 23).
let h: Harness
beforeAll(async () => {
  h = await startWorker()
  await h.addKeys('google-ai-studio', [googleKey(1)])
  await h.addKeys('openai', [openaiKey(1)])
})
afterAll(() => h.dispose())
beforeEach(() => h.gateway.reset())

const GEMINI = 'google-ai-studio/gemini-2.5-flash'
const post = (route: string, body: unknown) =>
  h.fetch(`/api/compat/${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${AUTH_KEY}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })

/** `{"a":{"a":…}}` nested `depth` times, as text (building it as an object would overflow here). */
const deep = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)

describe('/api/compat/responses: 400 in OpenAI error shape', () => {
  test.each([
    ['input:[null]', { input: [null] }],
    ['content:[null]', { input: [{ role: 'user', content: [null] }] }],
    ['tools:[null]', { input: 'Hi', tools: [null] }],
    [
      'function_call_output.output:[null]',
      { input: [{ type: 'function_call_output', call_id: 'c', output: [null] }] },
    ],
    ['input: 5', { input: 5 }],
    ['tool_choice: 5', { input: 'Hi', tool_choice: 5 }],
  ])('%s', async (_name, fields) => {
    const res = await post('responses', { model: GEMINI, ...fields })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('invalid_body')
    expect(h.gateway.requests).toHaveLength(0)
  })

  test('100,000-deep JSON in a tool schema', async () => {
    const body = `{"model":"${GEMINI}","input":"Hi","tools":[{"type":"function","name":"f","parameters":${deep(100_000)}}]}`
    const res = await post('responses', body)
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_body')
  })
})

describe('/api/compat/messages: 400 in Anthropic error shape', () => {
  const base = { model: GEMINI, max_tokens: 10 }
  test.each([
    ['messages:[null]', { messages: [null] }],
    ['content:{}', { messages: [{ role: 'user', content: {} }] }],
    ['content:5', { messages: [{ role: 'user', content: 5 }] }],
    ['content:[null]', { messages: [{ role: 'user', content: [null] }] }],
    ['system:[null]', { system: [null], messages: [{ role: 'user', content: 'Hi' }] }],
    ['tools:[null]', { tools: [null], messages: [{ role: 'user', content: 'Hi' }] }],
    [
      'tool_result.content:[null]',
      { messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [null] }] }] },
    ],
  ])('%s', async (_name, fields) => {
    const res = await post('messages', { ...base, ...fields })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
    expect(h.gateway.requests).toHaveLength(0)
  })

  test('100,000-deep JSON in a tool input schema', async () => {
    const body = `{"model":"${GEMINI}","max_tokens":10,"messages":[{"role":"user","content":"Hi"}],"tools":[{"name":"f","input_schema":${deep(100_000)}}]}`
    const res = await post('messages', body)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
  })
})

test('/api/compat/embeddings: 100,000-deep input is a 400', async () => {
  const res = await post('embeddings', `{"model":"openai/text-embedding-3-small","input":${deep(100_000)}}`)
  expect(res.status).toBe(400)
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_body')
})

describe('an upstream answer that is not what the dialect reads', () => {
  const chatWith = (message: object) =>
    Response.json({
      id: 'x',
      object: 'chat.completion',
      choices: [{ index: 0, message, finish_reason: 'tool_calls' }],
    })

  test('a tool call without `function`: 502 in each dialect, never a 500', async () => {
    h.gateway.on(googleKey(1), () =>
      chatWith({ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function' }] }),
    )
    const responses = await post('responses', { model: GEMINI, input: 'Hi' })
    expect(responses.status).toBe(502)
    expect(((await responses.json()) as { error: { code: string } }).error.code).toBe('upstream_invalid')
    const messages = await post('messages', {
      model: GEMINI,
      max_tokens: 5,
      messages: [{ role: 'user', content: 'Hi' }],
    })
    expect(messages.status).toBe(502)
    expect(await messages.json()).toMatchObject({ type: 'error', error: { type: 'api_error' } })
  })

  test.each([
    ['data: null', 'data: null\n\n'],
    [
      'tool_calls:[null]',
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: [null] } }] })}\n\n`,
    ],
  ])("%s in a stream ends it with the dialect's error event", async (_name, bad) => {
    const first = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' } }] })}\n\n`
    h.gateway.on(googleKey(1), () => replies.sse([first, bad, 'data: [DONE]\n\n']))
    const responses = await post('responses', { model: GEMINI, input: 'Hi', stream: true })
    expect(responses.status).toBe(200)
    const events = await responses.text()
    expect(events).toContain('event: response.failed')
    expect(events).not.toContain('event: response.completed')
    const messages = await post('messages', {
      model: GEMINI,
      max_tokens: 5,
      stream: true,
      messages: [{ role: 'user', content: 'Hi' }],
    })
    const text = await messages.text()
    expect(text).toContain('event: error')
    expect(text).not.toContain('event: message_stop')
  })
})
