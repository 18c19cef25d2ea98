/**
 * OpenAI's Responses API ⇄ Chat Completions, for every provider that has no Responses endpoint of
 * its own. Pure functions from body to body; stream events are in responses-stream.ts.
 */
import { AppError } from '../../http/errors'
import { newId, refuse } from './chat'
import type { ChatMessage, ChatPart, ChatRequest, ChatTool, Json } from './chat'
import { checked } from './check'
import {
  ResponsesRequest,
  type ChatCompletion,
  type ChatUsage,
  type ContentPart,
  type InputItem,
} from './shapes'

const STATE = 'keyrelay stores no responses (only openai/… models run on OpenAI’s own Responses API)'

/**
 * A Responses body (any JSON the client sent) as Chat Completions; a body of the wrong shape is a
 * 400, and stored-state features are refused, never ignored.
 */
export function responsesToChat(json: unknown, model: string): ChatRequest {
  const body = checked(ResponsesRequest, json)
  if (body.previous_response_id != null) throw refuse('previous_response_id', STATE)
  if (body.conversation != null) throw refuse('conversation', STATE)
  if (body.prompt != null) throw refuse('prompt', 'stored prompt templates live on OpenAI')
  if (body.store === true) throw refuse('store', STATE)
  if (body.background === true) throw refuse('background', 'background mode needs stored responses')

  const messages: ChatMessage[] = []
  if (body.instructions) messages.push({ role: 'system', content: body.instructions })
  if (typeof body.input === 'string') messages.push({ role: 'user', content: body.input })
  else for (const item of body.input) addInputItem(messages, item)

  const chat: ChatRequest = { model, messages }
  if (typeof body.max_output_tokens === 'number') chat.max_tokens = body.max_output_tokens
  if (typeof body.temperature === 'number') chat.temperature = body.temperature
  if (typeof body.top_p === 'number') chat.top_p = body.top_p
  if (typeof body.parallel_tool_calls === 'boolean') chat.parallel_tool_calls = body.parallel_tool_calls
  if (typeof body.user === 'string') chat.user = body.user
  if (typeof body.reasoning?.effort === 'string') chat.reasoning_effort = body.reasoning.effort
  if (body.tools && body.tools.length > 0) chat.tools = body.tools.map(chatTool)
  if (body.tool_choice != null) chat.tool_choice = toolChoice(body.tool_choice)
  const format = body.text?.format
  if (format?.type === 'json_schema') {
    const { type: _type, ...schema } = format
    chat.response_format = { type: 'json_schema', json_schema: schema }
  } else if (format?.type === 'json_object') chat.response_format = { type: 'json_object' }
  if (body.stream === true) {
    chat.stream = true
    chat.stream_options = { include_usage: true }
  }
  return chat
}

function addInputItem(messages: ChatMessage[], item: InputItem): void {
  const type = item.type ?? 'message'
  switch (type) {
    case 'message': {
      const role = item.role === 'developer' ? 'system' : item.role
      if (role === 'system') messages.push({ role: 'system', content: textOf(item.content) })
      else if (role === 'assistant') messages.push({ role: 'assistant', content: textOf(item.content) })
      else if (role === 'user') messages.push({ role: 'user', content: userContent(item.content) })
      else
        throw new AppError(
          400,
          'invalid_body',
          `input message role ${String(item.role).slice(0, 40)} is not one of user, assistant, system, developer`,
        )
      return
    }
    case 'function_call': {
      const call = {
        id: item.call_id ?? item.id ?? newId('call_'),
        type: 'function' as const,
        function: { name: item.name ?? '', arguments: item.arguments ?? '{}' },
      }
      const last = messages.at(-1)
      // Several calls of one turn are one assistant message with several tool calls.
      if (last?.role === 'assistant' && last.tool_calls) last.tool_calls.push(call)
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] })
      return
    }
    case 'function_call_output':
      messages.push({ role: 'tool', tool_call_id: item.call_id ?? '', content: textOf(item.output) })
      return
    case 'reasoning':
      return // another model's reasoning summary: nothing a chat model can take
    case 'item_reference':
      throw refuse('input item_reference', STATE)
    default:
      throw refuse(
        `input items of type ${type.slice(0, 40)}`,
        'only messages, function calls and their outputs translate to Chat Completions',
      )
  }
}

function textOf(content: string | ContentPart[] | null | undefined): string {
  if (typeof content === 'string') return content
  return (content ?? [])
    .map((p) => p.text)
    .filter((t): t is string => typeof t === 'string')
    .join('')
}

function userContent(content: string | ContentPart[] | null | undefined): string | ChatPart[] {
  if (typeof content === 'string') return content
  return (content ?? []).map((p): ChatPart => {
    if (p.type === 'input_text' || p.type === 'output_text') return { type: 'text', text: p.text ?? '' }
    if (p.type === 'input_image' && typeof p.image_url === 'string') {
      return {
        type: 'image_url',
        image_url: { url: p.image_url, ...(typeof p.detail === 'string' ? { detail: p.detail } : {}) },
      }
    }
    if (p.type === 'input_image') throw refuse('input_image.file_id', 'give the image as a URL or a data URL')
    throw refuse(
      `input content of type ${p.type.slice(0, 40)}`,
      'text and images translate to Chat Completions',
    )
  })
}

function chatTool(tool: NonNullable<ResponsesRequest['tools']>[number]): ChatTool {
  if (tool.type !== 'function') {
    throw refuse(
      `tools of type ${tool.type.slice(0, 40)}`,
      'hosted tools run on OpenAI; function tools work with every model',
    )
  }
  if (!tool.name) throw new AppError(400, 'invalid_body', 'a function tool needs a name')
  const fn: ChatTool['function'] = { name: tool.name }
  if (typeof tool.description === 'string') fn.description = tool.description
  if (tool.parameters !== undefined) fn.parameters = tool.parameters
  if (typeof tool.strict === 'boolean') fn.strict = tool.strict
  return { type: 'function', function: fn }
}

function toolChoice(choice: NonNullable<ResponsesRequest['tool_choice']>): ChatRequest['tool_choice'] {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice
  if (typeof choice === 'object' && choice.type === 'function' && typeof choice.name === 'string')
    return { type: 'function', function: { name: choice.name } }
  throw refuse('tool_choice', 'only auto, none, required or a function by name translate to Chat Completions')
}

/** What a response echoes of its request, and how it is named. */
export interface ResponseContext {
  id: string
  /** The model as the caller named it (`<provider>/<model>`). */
  model: string
  createdAt: number
  request: Json
}

export function responseContext(request: Json, model: string): ResponseContext {
  return { id: newId('resp_'), model, createdAt: Math.floor(Date.now() / 1000), request }
}

/** The Response object around `output`, echoing the request as OpenAI does. */
export function responseObject(
  ctx: ResponseContext,
  fields: {
    status: string
    output: Json[]
    usage: Json | null
    incomplete?: string | undefined
    error?: Json
  },
): Json {
  const r = ctx.request
  return {
    id: ctx.id,
    object: 'response',
    created_at: ctx.createdAt,
    status: fields.status,
    error: fields.error ?? null,
    incomplete_details: fields.incomplete ? { reason: fields.incomplete } : null,
    instructions: r.instructions ?? null,
    max_output_tokens: r.max_output_tokens ?? null,
    model: ctx.model,
    output: fields.output,
    parallel_tool_calls: r.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: (r.reasoning as Json | undefined)?.effort ?? null, summary: null },
    store: false,
    temperature: r.temperature ?? 1,
    text: r.text ?? { format: { type: 'text' } },
    tool_choice: r.tool_choice ?? 'auto',
    tools: r.tools ?? [],
    top_p: r.top_p ?? 1,
    truncation: 'disabled',
    usage: fields.usage,
    user: r.user ?? null,
    metadata: {},
  }
}

export function responseUsage(u: ChatUsage | undefined | null): Json | null {
  if (!u) return null
  const input = u.prompt_tokens ?? 0
  const output = u.completion_tokens ?? 0
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: u.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: u.total_tokens ?? input + output,
  }
}

/** Chat's finish reason as the Response's status and incomplete reason. */
export function responseStatus(finish: string | null | undefined): { status: string; incomplete?: string } {
  if (finish === 'length') return { status: 'incomplete', incomplete: 'max_output_tokens' }
  if (finish === 'content_filter') return { status: 'incomplete', incomplete: 'content_filter' }
  return { status: 'completed' }
}

export const messageItem = (id: string, text: string, status = 'completed'): Json => ({
  type: 'message',
  id,
  status,
  role: 'assistant',
  content: [{ type: 'output_text', text, annotations: [] }],
})

export const functionCallItem = (
  id: string,
  callId: string,
  name: string,
  args: string,
  status = 'completed',
): Json => ({
  type: 'function_call',
  id,
  call_id: callId,
  name,
  arguments: args,
  status,
})

/** A complete chat completion (already checked: shapes.ts) as a Response. */
export function chatToResponse(chat: ChatCompletion, ctx: ResponseContext): Json {
  const choice = chat.choices?.[0]
  const output: Json[] = []
  const text = choice?.message?.content
  if (typeof text === 'string' && text !== '') output.push(messageItem(newId('msg_'), text))
  for (const call of choice?.message?.tool_calls ?? []) {
    const callId = call.id ?? newId('call_')
    output.push(functionCallItem(`fc_${callId}`, callId, call.function.name, call.function.arguments ?? ''))
  }
  const { status, incomplete } = responseStatus(choice?.finish_reason)
  return responseObject(ctx, { status, incomplete, output, usage: responseUsage(chat.usage) })
}
