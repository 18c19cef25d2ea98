/**
 * OpenAI's API (and the providers that copy it) as the stand-in answers it: chat completions with
 * tools, JSON output when `response_format` asks for it, streams with the usage chunk, embeddings with
 * one vector per input, model lists, and the stored-object endpoints (empty lists).
 */
import { chatToolReply, chatToolTurn } from './dialects'
import { replies } from './replies'
import { sampleOf } from './schema-sample'

type Json = Record<string, unknown>

export function chatCompletion(body: Json, label: string): Response {
  const model = String(body.model ?? 'gpt-4o-mini')
  const turn = chatToolTurn(body)
  if (turn) return chatToolReply(model, turn, Boolean(body.stream))
  const format = (body.response_format ?? {}) as { type?: string; json_schema?: { schema?: unknown } }
  const text =
    format.type === 'json_schema'
      ? JSON.stringify(sampleOf(format.json_schema?.schema))
      : format.type === 'json_object'
        ? JSON.stringify({ answer: `${label}Hello` })
        : undefined
  if (body.stream) {
    const includeUsage = Boolean((body.stream_options as { include_usage?: boolean })?.include_usage)
    return chatStream(model, text ?? `${label}Hello there`, includeUsage)
  }
  return replies.openaiOk(text ?? `${label}Hello from ${model}`, model)
}

function chatStream(model: string, text: string, includeUsage: boolean): Response {
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({
      id: 'chatcmpl-mock',
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    })}\n\n`
  const cut = text.endsWith(' there') ? text.length - ' there'.length : Math.ceil(text.length / 2)
  const events = [
    chunk({ role: 'assistant', content: '' }),
    chunk({ content: text.slice(0, cut) }),
    chunk({ content: text.slice(cut) }),
    chunk({}, 'stop'),
  ]
  if (includeUsage) {
    events.push(
      `data: ${JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion.chunk', created: 1_700_000_000, model, choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } })}\n\n`,
    )
  }
  events.push('data: [DONE]\n\n')
  return replies.sse(events)
}

/** The legacy completions endpoint (`/v1/completions`). */
export function textCompletion(body: Json, label: string): Response {
  const model = String(body.model ?? 'gpt-3.5-turbo-instruct')
  return Response.json({
    id: 'cmpl-mock',
    object: 'text_completion',
    created: 1_700_000_000,
    model,
    choices: [{ text: `${label}Hello`, index: 0, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  })
}

const VECTOR = [0.0123, -0.0456, 0.0789]

/**
 * One vector per input, in order; with `encoding_format: "base64"` (the openai SDK's default) as
 * little-endian float32s.
 */
export function embeddings(body: Json): Response {
  const inputs = Array.isArray(body.input) ? body.input : [body.input]
  const base64 = body.encoding_format === 'base64'
  const embedding = base64 ? Buffer.from(new Float32Array(VECTOR).buffer).toString('base64') : VECTOR
  return Response.json({
    object: 'list',
    data: inputs.map((_, index) => ({ object: 'embedding', index, embedding })),
    model: String(body.model ?? 'embedding-model'),
    usage: { prompt_tokens: 3 * inputs.length, total_tokens: 3 * inputs.length },
  })
}

export function modelList(ids: string[], ownedBy: string): Response {
  return Response.json({
    object: 'list',
    data: ids.map((id) => ({ id, object: 'model', created: 0, owned_by: ownedBy })),
  })
}

/** A stored-object listing (stored completions, files, batches…): this account has stored nothing. */
export const emptyList = () =>
  Response.json({ object: 'list', data: [], first_id: null, last_id: null, has_more: false })

/** OpenAI's answer to a path it does not have. */
export const invalidUrl = (method: string, path: string) =>
  new Response(
    JSON.stringify({
      error: {
        message: `Invalid URL (${method} /v1/${path})`,
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    }),
    { status: 404, headers: { 'content-type': 'application/json' } },
  )

/** What OpenAI answers for a stored object this account does not hold. */
export const noSuchObject = (kind: string, id: string) =>
  new Response(
    JSON.stringify({
      error: {
        message: `No ${kind} found with id '${id}'.`,
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    }),
    { status: 404, headers: { 'content-type': 'application/json' } },
  )

/** What OpenAI answers for a model that does not exist (or this project cannot see). */
export const modelNotFound = (model: string) =>
  new Response(
    JSON.stringify({
      error: {
        message: `The model \`${model}\` does not exist or you do not have access to it.`,
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
      },
    }),
    { status: 404, headers: { 'content-type': 'application/json' } },
  )
