/**
 * Anthropic's Messages API ⇄ Chat Completions, so the Anthropic SDK and tools built on it (Claude
 * Code) can spend any provider's pool. Pure functions; stream events are in messages-stream.ts.
 */
import { AppError, type ErrorBody } from '../../http/errors'
import { jsonText, newId, refuse } from './chat'
import type { ChatMessage, ChatPart, ChatRequest, ChatTool, Json } from './chat'
import { checked } from './check'
import { MessagesRequest, type ChatCompletion, type MessagesBlock } from './shapes'

/** A Messages body (any JSON the client sent) as Chat Completions; a body of the wrong shape is a 400. */
export function messagesToChat(json: unknown, model: string): ChatRequest {
  const body = checked(MessagesRequest, json)
  const messages: ChatMessage[] = []
  const system = typeof body.system === 'string' ? body.system : textOf(body.system)
  if (system) messages.push({ role: 'system', content: system })
  for (const m of body.messages) {
    if (m.role === 'user') addUser(messages, m.content)
    else if (m.role === 'assistant') addAssistant(messages, m.content)
    else
      throw new AppError(400, 'invalid_body', `message role ${m.role.slice(0, 40)} is not user or assistant`)
  }
  const chat: ChatRequest = { model, messages }
  if (typeof body.max_tokens === 'number') chat.max_tokens = body.max_tokens
  if (typeof body.temperature === 'number') chat.temperature = body.temperature
  if (typeof body.top_p === 'number') chat.top_p = body.top_p
  if (body.stop_sequences && body.stop_sequences.length > 0) chat.stop = body.stop_sequences
  if (typeof body.metadata?.user_id === 'string') chat.user = body.metadata.user_id
  if (body.tools && body.tools.length > 0) chat.tools = body.tools.map(chatTool)
  const choice = body.tool_choice
  if (choice) {
    if (choice.type === 'auto') chat.tool_choice = 'auto'
    else if (choice.type === 'any') chat.tool_choice = 'required'
    else if (choice.type === 'none') chat.tool_choice = 'none'
    else if (choice.type === 'tool')
      chat.tool_choice = { type: 'function', function: { name: choice.name ?? '' } }
    if (choice.disable_parallel_tool_use === true) chat.parallel_tool_calls = false
  }
  if (body.stream === true) {
    chat.stream = true
    chat.stream_options = { include_usage: true }
  }
  return chat
}

function textOf(
  content: { type: string; text?: string | null | undefined }[] | string | null | undefined,
): string {
  if (typeof content === 'string') return content
  return (content ?? [])
    .filter((b) => b.type === 'text')
    .map((b) => b.text ?? '')
    .join('\n')
}

function addUser(messages: ChatMessage[], content: string | MessagesBlock[]): void {
  if (typeof content === 'string') {
    messages.push({ role: 'user', content })
    return
  }
  const parts: ChatPart[] = []
  for (const block of content) {
    switch (block.type) {
      case 'text':
        parts.push({ type: 'text', text: block.text ?? '' })
        break
      case 'image':
        parts.push({ type: 'image_url', image_url: { url: imageUrl(block.source) } })
        break
      case 'tool_result': {
        // Chat Completions answers each tool call with a message of its own, before the user's text.
        const text = textOf(block.content)
        messages.push({
          role: 'tool',
          tool_call_id: block.tool_use_id ?? '',
          content: block.is_error === true ? `Error: ${text}` : text,
        })
        break
      }
      default:
        throw refuse(
          `user content of type ${block.type.slice(0, 40)}`,
          'text, images and tool results translate to Chat Completions',
        )
    }
  }
  if (parts.length > 0) messages.push({ role: 'user', content: parts })
}

function imageUrl(source: MessagesBlock['source']): string {
  if (source?.type === 'base64' && source.data) return `data:${source.media_type ?? ''};base64,${source.data}`
  if (source?.type === 'url' && source.url) return source.url
  throw refuse('image source', 'give the image as base64 data or a URL')
}

function addAssistant(messages: ChatMessage[], content: string | MessagesBlock[]): void {
  if (typeof content === 'string') {
    messages.push({ role: 'assistant', content })
    return
  }
  const text = textOf(content)
  const calls = content
    .filter((b) => b.type === 'tool_use')
    .map((b) => ({
      id: b.id ?? newId('toolu_'),
      type: 'function' as const,
      function: { name: b.name ?? '', arguments: jsonText(b.input ?? {}) },
    }))
  // Thinking blocks are another model's reasoning: nothing a chat model can take.
  messages.push({
    role: 'assistant',
    content: text || null,
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
  })
}

function chatTool(tool: NonNullable<MessagesRequest['tools']>[number]): ChatTool {
  if (tool.type != null && tool.type !== 'custom') {
    throw refuse(
      `tools of type ${tool.type.slice(0, 40)}`,
      "Anthropic's server tools run on Anthropic; custom tools work with every model",
    )
  }
  const fn: ChatTool['function'] = { name: tool.name, parameters: tool.input_schema ?? { type: 'object' } }
  if (typeof tool.description === 'string') fn.description = tool.description
  return { type: 'function', function: fn }
}

const STOP_REASONS: Record<string, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
}

export const stopReason = (finish: string | null | undefined): string =>
  STOP_REASONS[finish ?? 'stop'] ?? 'end_turn'

function parseArguments(text: string): unknown {
  try {
    const value: unknown = JSON.parse(text || '{}')
    return value && typeof value === 'object' ? value : {}
  } catch {
    return {}
  }
}

/** A complete chat completion (already checked: shapes.ts) as a Message; `model` as the caller named it. */
export function chatToMessage(chat: ChatCompletion, model: string): Json {
  const choice = chat.choices?.[0]
  const content: Json[] = []
  const text = choice?.message?.content
  if (typeof text === 'string' && text !== '') content.push({ type: 'text', text })
  for (const call of choice?.message?.tool_calls ?? []) {
    content.push({
      type: 'tool_use',
      id: call.id ?? newId('toolu_'),
      name: call.function.name,
      input: parseArguments(call.function.arguments ?? ''),
    })
  }
  return {
    id: newId('msg_'),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason(choice?.finish_reason),
    stop_sequence: null,
    usage: {
      input_tokens: chat.usage?.prompt_tokens ?? 0,
      output_tokens: chat.usage?.completion_tokens ?? 0,
    },
  }
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  529: 'overloaded_error',
}

/** An error in Anthropic's shape, which the Anthropic SDK turns into its typed errors. */
/** `code`: keyrelay's own stable code, beside Anthropic's fields (its SDK keeps the whole body). */
export function anthropicError(status: number, message: string, code?: string): Json {
  return {
    type: 'error',
    error: { type: ERROR_TYPES[status] ?? 'api_error', message, ...(code ? { code } : {}) },
  }
}

/** The message of an error body in OpenAI's shape (keyrelay's own, or a provider's through the gateway). */
export function errorMessage(body: unknown, status: number): string {
  const e = (body as Partial<ErrorBody> | undefined)?.error as Json | undefined
  const message = e?.message
  return typeof message === 'string' && message ? message : `Upstream error (HTTP ${status})`
}
