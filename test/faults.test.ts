import Anthropic from '@anthropic-ai/sdk'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { afterAll, afterEach, describe, expect, test } from 'vitest'
import { MockGateway } from './gateway/mock-gateway'
import { geminiEvent, replies } from './gateway/replies'
import { AUTH_KEY, keyRow, startWorker, type Harness } from './harness'
import {
  adminHeaders,
  anthropicKey,
  errorCode,
  GEMINI_PATH,
  googleInit,
  googleKey,
  openaiKey,
} from './helpers'

const started: Harness[] = []
async function worker(options: Parameters<typeof startWorker>[0] = {}): Promise<Harness> {
  const h = await startWorker(options)
  started.push(h)
  return h
}
afterEach(async () => {
  for (const h of started.splice(0)) await h.dispose()
})

/** An SSE response that sends `events`, then breaks off as a dropped connection does. */
function cutStream(events: string[]): Response {
  const encoder = new TextEncoder()
  let sent = 0
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent < events.length) controller.enqueue(encoder.encode(events[sent++]))
      else controller.error(new Error('connection reset by peer'))
    },
  })
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
}

async function readAll(res: Response): Promise<{ text: string; failed: boolean }> {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return { text, failed: false }
      text += decoder.decode(value, { stream: true })
    }
  } catch {
    return { text, failed: true }
  }
}

describe('upstream faults', () => {
  test('no answer before the timeout: the next key serves, the slow one is not penalised', async () => {
    const h = await worker({ vars: { UPSTREAM_TIMEOUT_SECONDS: '1' } })
    const [slow, fast] = [googleKey(1), googleKey(2)]
    const [slowId] = await h.addKeys('google-ai-studio', [slow, fast])
    h.gateway.on(
      slow,
      () => new Promise<Response>((resolve) => setTimeout(() => resolve(replies.googleOk()), 5000)),
    )
    for (let i = 0; i < 2; i++) {
      const t = Date.now()
      expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
      expect(Date.now() - t).toBeLessThan(3000)
    }
    // Not penalised: it stays in the rotation (and is tried, and skipped past, again).
    expect(h.gateway.callsFor(slow)).toBeGreaterThanOrEqual(1)
    expect(await keyRow(h.d1, slowId!)).toMatchObject({ status: 'active', cooldowns: '{}' })
  })

  test('a stream cut mid-way ends with an error event in the provider format, not a clean end', async () => {
    const h = await worker()
    await h.addKeys('google-ai-studio', [googleKey(1)])
    h.gateway.on(googleKey(1), () => cutStream([geminiEvent('Once '), geminiEvent('upon ')]))
    const res = await h.fetch(
      `${GEMINI_PATH.replace(':generateContent', ':streamGenerateContent')}?alt=sse`,
      googleInit(),
    )
    expect(res.status).toBe(200)
    const { text } = await readAll(res)
    expect(text.startsWith(geminiEvent('Once ') + geminiEvent('upon '))).toBe(true)
    const last = text.trim().split('\r\n\r\n').at(-1) ?? ''
    expect(JSON.parse(last.replace(/^data: /, ''))).toMatchObject({
      error: { code: 502, status: 'UNAVAILABLE' },
    })
    // Logs reach the test through workerd's stdout, a moment after the body.
    await expect.poll(() => h.logs.some((l) => l.includes('"event":"stream_cut"'))).toBe(true)
  })

  test('the openai SDK raises an error for a cut compat stream instead of returning half an answer', async () => {
    const h = await worker()
    await h.addKeys('openai', [openaiKey(1)])
    const chunk = (content: string) =>
      `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`
    h.gateway.on(openaiKey(1), () => cutStream([chunk('Hello'), chunk(' wor')]))
    const client = new OpenAI({ apiKey: AUTH_KEY, baseURL: `${h.url}/api/compat`, maxRetries: 0 })
    const parts: string[] = []
    const consume = async () => {
      const stream = await client.chat.completions.create({
        model: 'openai/gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
      })
      for await (const c of stream) parts.push(c.choices[0]?.delta.content ?? '')
    }
    await expect(consume()).rejects.toThrow(/interrupted/)
    expect(parts.join('')).toBe('Hello wor')
  })

  test('a translated stream cut mid-way ends in the client dialect’s error: the Anthropic SDK raises it', async () => {
    const h = await worker()
    await h.addKeys('openai', [openaiKey(1)])
    const chunk = (content: string) =>
      `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`
    // Split mid-line as well: the translation must carry a partial event to the next chunk.
    const second = chunk(' wor')
    h.gateway.on(openaiKey(1), () => cutStream([chunk('Hello'), second.slice(0, 20), second.slice(20)]))
    const client = new Anthropic({ apiKey: AUTH_KEY, baseURL: `${h.url}/api/compat`, maxRetries: 0 })
    const stream = client.messages.stream({
      model: 'openai/gpt-4o-mini',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'x' }],
    })
    const parts: string[] = []
    stream.on('text', (t) => parts.push(t))
    await expect(stream.finalMessage()).rejects.toThrow(/interrupted/)
    expect(parts.join('')).toBe('Hello wor')
  })

  test("an error event inside a 200 stream reaches the client: Anthropic's SDK raises it", async () => {
    const h = await worker()
    await h.addKeys('anthropic', [anthropicKey(1)])
    const ev = (name: string, data: object) =>
      `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`
    h.gateway.on(anthropicKey(1), () =>
      replies.sse([
        ev('message_start', {
          message: {
            id: 'm',
            type: 'message',
            role: 'assistant',
            model: 'claude-opus-4-5',
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: 1, output_tokens: 1 },
          },
        }),
        `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`,
      ]),
    )
    const client = new Anthropic({ apiKey: AUTH_KEY, baseURL: `${h.url}/api/anthropic`, maxRetries: 0 })
    const stream = client.messages.stream({
      model: 'claude-opus-4-5',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'x' }],
    })
    await expect(stream.finalMessage()).rejects.toThrow(/Overloaded/)
  })
})

describe('D1 unavailable, and restarts', () => {
  let dir: string | undefined
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  test('requests keep being served from the pool an isolate holds; admin calls answer 503', async () => {
    const h = await worker({ vars: { POOL_REFRESH_SECONDS: '1' } })
    await h.addKeys('google-ai-studio', [googleKey(1), googleKey(2)])
    expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    // Take the keys table away: every D1 query on it fails, as when D1 cannot be reached.
    await h.d1.prepare('ALTER TABLE keys RENAME TO keys_away').run()
    try {
      await new Promise((r) => setTimeout(r, 1100)) // past the refresh interval
      for (let i = 0; i < 5; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
      const admin = await h.fetch('/admin/api/keys', { headers: adminHeaders() })
      expect(admin.status).toBe(503)
      expect(await errorCode(admin)).toBe('storage_unavailable')
      // Reads are retried for about 1.6 s before the failure is logged.
      await expect
        .poll(() => h.logs.some((l) => l.includes('"event":"pool_refresh_failed"')), { timeout: 6000 })
        .toBe(true)
    } finally {
      await h.d1.prepare('ALTER TABLE keys_away RENAME TO keys').run()
    }
    expect((await h.fetch('/admin/api/keys', { headers: adminHeaders() })).status).toBe(200)
  })

  test('cooldowns and blocks survive a restart on the same D1', async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyrelay-restart-'))
    const gateway = new MockGateway()
    const first = await worker({ d1Persist: dir, gateway })
    const [limited, invalid, healthy] = [googleKey(1), googleKey(2), googleKey(3)]
    await first.addKeys('google-ai-studio', [limited, invalid, healthy])
    gateway.on(limited, () => replies.googleMinute429()).on(invalid, () => replies.googleInvalidKey())
    for (let i = 0; i < 5; i++) expect((await first.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    await first.dispose()
    started.splice(started.indexOf(first), 1)

    gateway.reset()
    const second = await worker({ d1Persist: dir, gateway, applyMigrations: false })
    for (let i = 0; i < 5; i++) expect((await second.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    expect(gateway.requests.map((r) => r.key)).toEqual(Array(5).fill(healthy))
  })
})
