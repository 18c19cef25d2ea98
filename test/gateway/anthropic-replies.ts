/** Anthropic's Messages API as the stand-in answers it (docs.anthropic.com/en/api). */
import { replies } from './replies'

type Json = Record<string, unknown>

export const ANTHROPIC_MODELS = ['claude-sonnet-4-5', 'claude-opus-4-5', 'claude-haiku-4-5']

export function messages(body: Json, label: string): Response {
  if (!body.stream) return replies.anthropicOk(`${label}Hello from Claude`)
  const ev = (name: string, data: object) =>
    `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`
  return replies.sse([
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

export function countTokens(body: Json): Response {
  const text = JSON.stringify([body.system ?? '', body.messages ?? [], body.tools ?? []])
  return Response.json({ input_tokens: Math.max(1, Math.ceil(text.length / 4)) })
}

const modelInfo = (id: string) => ({
  type: 'model',
  id,
  display_name: id,
  created_at: '2025-09-29T00:00:00Z',
})

/** Anthropic's list shape: `data`, `has_more`, `first_id`, `last_id`. */
export const models = () =>
  Response.json({
    data: ANTHROPIC_MODELS.map(modelInfo),
    has_more: false,
    first_id: ANTHROPIC_MODELS[0],
    last_id: ANTHROPIC_MODELS.at(-1),
  })

export const model = (id: string) =>
  ANTHROPIC_MODELS.includes(id) ? Response.json(modelInfo(id)) : notFound()

export const notFound = (message = 'Not found') =>
  new Response(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message } }), {
    status: 404,
    headers: { 'content-type': 'application/json' },
  })
