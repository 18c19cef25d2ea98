/**
 * What the stand-in gateway answers for a key with no special behaviour: a successful reply in the
 * format of the endpoint that was called, streamed when the request asked for a stream.
 */
import { chatToolReply, chatToolTurn, responsesReply } from './dialects'
import { geminiEvent, replies } from './replies'
import type { SeenRequest } from './mock-gateway'

const sse = (events: string[]) => replies.sse(events)

function parsedBody(req: SeenRequest): Record<string, unknown> {
  try {
    const json: unknown = JSON.parse(req.body)
    // `null`, numbers and arrays are JSON too; a provider reads fields of objects only.
    return json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

export function defaultReply(req: SeenRequest, label: string): Response {
  const body = parsedBody(req)
  const { provider, path } = req
  if (path.endsWith('embeddings'))
    return embeddings(String(body.model ?? 'embedding-model'), body.encoding_format === 'base64')
  if (path.endsWith('models')) return modelList(provider)
  if (provider === 'google-ai-studio') {
    if (path.includes(':streamGenerateContent')) {
      return sse([geminiEvent(`${label}Hello `), geminiEvent('from '), geminiEvent('Gemini', true)])
    }
    return replies.googleOk(`${label}Hello from Gemini`)
  }
  if (provider === 'anthropic')
    return body.stream ? anthropicStream(label) : replies.anthropicOk(`${label}Hello from Claude`)
  if (provider === 'openai' && path === 'responses')
    return responsesReply(body, `${label}Hello from ${String(body.model)}`)
  const model = String(body.model ?? 'gpt-4o-mini')
  const turn = chatToolTurn(body)
  if (turn) return chatToolReply(model, turn, Boolean(body.stream))
  if (body.stream)
    return openaiStream(
      model,
      label,
      Boolean((body.stream_options as { include_usage?: boolean })?.include_usage),
    )
  return replies.openaiOk(`${label}Hello from ${model}`, model)
}

function openaiStream(model: string, label: string, includeUsage: boolean): Response {
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({
      id: 'chatcmpl-mock',
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    })}\n\n`
  const events = [
    chunk({ role: 'assistant', content: '' }),
    chunk({ content: `${label}Hello` }),
    chunk({ content: ' there' }),
    chunk({}, 'stop'),
  ]
  if (includeUsage) {
    events.push(
      `data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 1_700_000_000, model, choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } })}\n\n`,
    )
  }
  events.push('data: [DONE]\n\n')
  return sse(events)
}

function anthropicStream(label: string): Response {
  const ev = (name: string, data: object) =>
    `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`
  return sse([
    ev('message_start', {
      message: {
        id: 'msg_mock',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 5, output_tokens: 1 },
      },
    }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ev('ping', {}),
    ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: `${label}Hello` } }),
    ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ' from Claude' } }),
    ev('content_block_stop', { index: 0 }),
    ev('message_delta', {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 4 },
    }),
    ev('message_stop', {}),
  ])
}

/** Like OpenAI: floats, or with `encoding_format: "base64"` (the openai SDK's default) little-endian float32s. */
function embeddings(model: string, base64: boolean): Response {
  const vector = [0.0123, -0.0456, 0.0789]
  const embedding = base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector
  return Response.json({
    object: 'list',
    data: [{ object: 'embedding', index: 0, embedding }],
    model,
    usage: { prompt_tokens: 3, total_tokens: 3 },
  })
}

const MODELS: Record<string, string[]> = {
  'google-ai-studio': ['models/gemini-2.5-flash', 'models/gemini-2.5-pro'],
  openai: ['gpt-4o-mini', 'gpt-4o'],
  anthropic: ['claude-sonnet-4-5'],
}

function modelList(provider: string): Response {
  const ids = MODELS[provider] ?? [`${provider}-model`]
  return Response.json({
    object: 'list',
    data: ids.map((id) => ({ id, object: 'model', created: 0, owned_by: provider })),
  })
}
