import { AppError } from '../../http/errors'

const encoder = new TextEncoder()

/** A request or response body as the translations read it (validated field by field). */
export type Json = Record<string, unknown>

/** A field a translation cannot carry: refused with a 400 naming it, never silently dropped. */
export const refuse = (field: string, why: string): AppError =>
  new AppError(400, 'unsupported_field', `${field} is not supported for this model: ${why}`)

/**
 * The OpenAI Chat Completions shapes every dialect translates to and from: the one API every
 * provider behind AI Gateway's unified endpoint speaks. Only the fields the translations use.
 */
export type ChatPart =
  { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string; detail?: string } }

export interface ChatToolCall {
  id: string
  type: 'function'
  function: { name: string; arguments: string }
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | ChatPart[] }
  | { role: 'assistant'; content: string | null; tool_calls?: ChatToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string }

export interface ChatTool {
  type: 'function'
  function: { name: string; description?: string; parameters?: unknown; strict?: boolean }
}

export interface ChatRequest {
  model: string
  messages: ChatMessage[]
  max_tokens?: number
  temperature?: number
  top_p?: number
  stop?: string[]
  tools?: ChatTool[]
  tool_choice?: 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } }
  parallel_tool_calls?: boolean
  response_format?: { type: 'json_object' } | { type: 'json_schema'; json_schema: object }
  reasoning_effort?: string
  user?: string
  stream?: boolean
  stream_options?: { include_usage: boolean }
}

/** Random ids in the style each API uses (`resp_…`, `msg_…`): 24 hex digits, from one runtime call. */
export function newId(prefix: string): string {
  return prefix + crypto.randomUUID().replaceAll('-', '').slice(0, 24)
}

/**
 * Deeper than any real request (a tool's JSON Schema nests a dozen levels), and far below what the
 * runtime's serialiser can take: a 100,000-deep body overflows its stack.
 */
export const MAX_JSON_DEPTH = 100

/** Whether `value` nests objects or arrays deeper than `max`: iterative, so any depth is safe to ask. */
export function deeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number]
    if (v === null || typeof v !== 'object') continue
    if (depth >= max) return true
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1])
    }
  }
  return false
}

/**
 * JSON text of a body keyrelay re-serialises. One nested deeper than MAX_JSON_DEPTH is the caller's
 * mistake, answered 400, never a crash of the serialiser.
 */
export function jsonText(value: unknown): string {
  if (deeperThan(value, MAX_JSON_DEPTH)) {
    throw new AppError(400, 'invalid_body', `The body nests deeper than ${MAX_JSON_DEPTH} levels`)
  }
  return JSON.stringify(value)
}

/** A JSON body to send upstream. */
export const jsonBytes = (value: unknown): ArrayBuffer =>
  encoder.encode(jsonText(value)).buffer as ArrayBuffer
