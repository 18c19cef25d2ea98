import * as f from './fixtures'

/** Builders for what the stand-in gateway answers; each returns a fresh Response. */
const json = (status: number, body: string, headers: Record<string, string> = {}) =>
  new Response(body, { status, headers: { 'content-type': 'application/json; charset=UTF-8', ...headers } })

export const replies = {
  googleOk: (text = 'Hello from Gemini') =>
    json(
      200,
      JSON.stringify({
        candidates: [{ content: { parts: [{ text }], role: 'model' }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 4, totalTokenCount: 8 },
        modelVersion: 'gemini-2.5-flash',
      }),
    ),
  googleDaily429: () => json(429, f.googleDaily429),
  googleMinute429: () => json(429, f.googleMinute429),
  googleInvalidKey: () => json(400, f.googleInvalidKey),
  googleLeaked: () => json(403, f.googleLeaked),
  googleSuspended: () => json(403, f.googleSuspended),
  googleBadRequest: () => json(400, f.googleBadRequest),
  googleOverloaded: () => json(503, f.googleOverloaded),

  openaiOk: (content = 'Hello from OpenAI', model = 'gpt-4o-mini') =>
    json(
      200,
      JSON.stringify({
        id: 'chatcmpl-mock',
        object: 'chat.completion',
        created: 1_700_000_000,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 },
      }),
      { 'x-request-id': 'req_mock' },
    ),
  openaiInvalidKey: () => json(401, f.openaiInvalidKey),
  openaiRateLimit: (headers: Record<string, string> = {}) => json(429, f.openaiRateLimit, headers),
  openaiInsufficientQuota: () => json(429, f.openaiInsufficientQuota),

  anthropicOk: (text = 'Hello from Claude') =>
    json(
      200,
      JSON.stringify({
        id: 'msg_mock',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [{ type: 'text', text }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 5, output_tokens: 4 },
      }),
      { 'request-id': 'req_mock' },
    ),
  anthropicInvalidKey: () => json(401, f.anthropicInvalidKey),
  anthropicRateLimit: (retryAfter = '30') => json(429, f.anthropicRateLimit, { 'retry-after': retryAfter }),
  anthropicOverloaded: () => json(529, f.anthropicOverloaded),

  gatewayUnauthorized: () => json(401, f.gatewayUnauthorized),
  gatewayByokMissing: () => json(400, f.gatewayByokMissing),
  gatewayRateLimited: () => json(429, f.gatewayRateLimited, { 'retry-after': '7' }),

  /** `text/event-stream` whose events are released one by one as the test resolves `gates`. */
  sse: (events: string[], gates: Promise<void>[] = []) => {
    const encoder = new TextEncoder()
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        for (const [i, event] of events.entries()) {
          if (gates[i]) await gates[i]
          controller.enqueue(encoder.encode(event))
        }
        controller.close()
      },
    })
    return new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream' } })
  },
}

export const geminiEvent = (text: string, last = false) =>
  `data: ${JSON.stringify({
    candidates: [
      { content: { parts: [{ text }], role: 'model' }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) },
    ],
    ...(last ? { usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 2, totalTokenCount: 6 } } : {}),
  })}\r\n\r\n`
