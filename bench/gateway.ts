/**
 * The benchmark's upstream: answers like a provider after a fixed delay, with nothing else to do, so
 * what is measured is keyrelay. Keys listed in `rateLimited` answer Google's per-minute 429.
 */
import { googleMinute429 } from '../test/gateway/fixtures'

export const BENCH_GATEWAY = 'http://bench-gateway.test/v1/0123456789abcdef0123456789abcdef/bench'

const OK_BODY = JSON.stringify({
  candidates: [
    { content: { parts: [{ text: 'Hello from the bench upstream' }], role: 'model' }, finishReason: 'STOP' },
  ],
  usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 6, totalTokenCount: 10 },
})

export interface BenchGateway {
  handle: (request: Request) => Promise<Response>
  calls: number
  rateLimited: Set<string>
  /** Upstream calls per key. */
  perKey: Map<string, number>
}

export function benchGateway(delayMs: number, streamEvents = 5, streamGapMs = 20): BenchGateway {
  const gw: BenchGateway = {
    calls: 0,
    rateLimited: new Set(),
    perKey: new Map(),
    handle: async (request) => {
      gw.calls++
      const key = request.headers.get('x-goog-api-key') ?? ''
      gw.perKey.set(key, (gw.perKey.get(key) ?? 0) + 1)
      const body = await request.text()
      const streamed = body.includes('"stream":true')
      await new Promise((r) => setTimeout(r, delayMs))
      if (gw.rateLimited.has(key)) {
        return new Response(googleMinute429, { status: 429, headers: { 'content-type': 'application/json' } })
      }
      if (request.url.includes(':streamGenerateContent')) return stream(streamEvents, streamGapMs)
      // AI Gateway's unified endpoint answers in OpenAI's shape: a completion, or its chunks.
      if (request.url.includes('/compat/chat/completions')) return chat(streamed, streamEvents)
      return new Response(OK_BODY, { headers: { 'content-type': 'application/json' } })
    },
  }
  return gw
}

const chatChunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 0, model: 'gemini-2.5-flash', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`

function chat(streamed: boolean, events: number): Response {
  if (!streamed) {
    return Response.json({
      id: 'chatcmpl-bench',
      object: 'chat.completion',
      created: 0,
      model: 'gemini-2.5-flash',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello from the bench upstream' },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 4, completion_tokens: 6, total_tokens: 10 },
    })
  }
  const text = [
    chatChunk({ role: 'assistant', content: '' }),
    ...Array.from({ length: events }, (_, i) => chatChunk({ content: `chunk ${i} ` })),
    chatChunk({}, 'stop'),
    'data: [DONE]\n\n',
  ].join('')
  return new Response(text, { headers: { 'content-type': 'text/event-stream' } })
}

function stream(events: number, gapMs: number): Response {
  const encoder = new TextEncoder()
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      for (let i = 0; i < events; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, gapMs))
        // Like Gemini, the last event carries the finish reason (keyrelay checks streams end with it).
        const finish = i === events - 1 ? ',"finishReason":"STOP"' : ''
        const event = `data: {"candidates":[{"content":{"parts":[{"text":"chunk ${i}"}]}${finish}}]}\r\n\r\n`
        controller.enqueue(encoder.encode(event))
      }
      controller.close()
    },
  })
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
}

/**
 * The baseline: the same workerd, the same upstream, and a Worker that only forwards, to the upstream
 * path keyrelay would call (a Responses call goes to the chat endpoint keyrelay translates it for).
 */
export const BARE_WORKER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    const path = url.pathname === '/api/compat/responses' ? '/compat/chat/completions' : url.pathname.slice('/api'.length)
    const target = env.GATEWAY_URL + path + url.search
    const headers = new Headers(request.headers)
    headers.set('x-goog-api-key', 'bench-bare-key')
    const res = await fetch(target, { method: request.method, headers, body: request.body })
    return new Response(res.body, res)
  },
}`
