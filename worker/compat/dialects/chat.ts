import { AppError } from '../../http/errors'

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

export interface ChatUsage {
  prompt_tokens?: number
  completion_tokens?: number
  total_tokens?: number
  prompt_tokens_details?: { cached_tokens?: number }
  completion_tokens_details?: { reasoning_tokens?: number }
}

export interface ChatCompletion {
  id?: string
  model?: string
  choices?: {
    message?: { content?: string | null; tool_calls?: ChatToolCall[] }
    finish_reason?: string | null
  }[]
  usage?: ChatUsage
}

/** A piece of a tool call in a stream: the first piece of each has its id and name. */
export interface ChatToolCallDelta {
  index: number
  id?: string
  function?: { name?: string; arguments?: string }
}

/** One streamed chunk; `error` when the stream broke (proxy/stream-guard.ts) or upstream said so. */
export interface ChatChunk {
  choices?: {
    delta?: {
      content?: string | null
      tool_calls?: ChatToolCallDelta[]
    }
    finish_reason?: string | null
  }[]
  usage?: ChatUsage | null
  error?: { message?: string; code?: string | number; type?: string }
}

/** Random ids in the style each API uses (`resp_…`, `msg_…`). */
export function newId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12))
  return `${prefix}${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`
}

/** A JSON body to send upstream. */
export const jsonBytes = (value: unknown): ArrayBuffer =>
  new TextEncoder().encode(JSON.stringify(value)).buffer as ArrayBuffer
