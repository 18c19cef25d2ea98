/**
 * What the stand-in gateway answers for tool calling on chat completions, and for OpenAI's own
 * Responses API (`openai/responses`), in the shapes OpenAI documents (platform.openai.com/docs/api-reference).
 */
import { replies } from './replies'
import { sampleOf } from './schema-sample'

type Json = Record<string, unknown>

const usage = { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 }

/** With tools offered and no tool result yet, the model calls the first tool; after one, it answers. */
export function chatToolTurn(
  body: Json,
): { call?: { name: string; arguments: string }; text?: string } | undefined {
  const tools = body.tools as { function?: { name?: string; parameters?: unknown } }[] | undefined
  const messages = (body.messages ?? []) as { role?: string; content?: unknown }[]
  const last = messages.at(-1)
  if (last?.role === 'tool') return { text: `The tool said: ${String(last.content)}` }
  const tool = tools?.[0]?.function
  if (!tool?.name) return undefined
  // Arguments that satisfy the tool's own schema (strings are 'Paris').
  return { call: { name: tool.name, arguments: JSON.stringify(sampleOf(tool.parameters ?? {})) } }
}

export function chatToolReply(
  model: string,
  turn: NonNullable<ReturnType<typeof chatToolTurn>>,
  stream: boolean,
): Response {
  const call = turn.call && { id: 'call_mock_1', type: 'function', function: turn.call }
  const finish = call ? 'tool_calls' : 'stop'
  if (!stream) {
    return Response.json({
      id: 'chatcmpl-mock-tools',
      object: 'chat.completion',
      created: 1_700_000_000,
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: turn.text ?? null, ...(call ? { tool_calls: [call] } : {}) },
          finish_reason: finish,
        },
      ],
      usage,
    })
  }
  const chunk = (delta: Json, finishReason: string | null = null, extra: Json = {}) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-mock-tools', object: 'chat.completion.chunk', created: 1_700_000_000, model, choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra })}\n\n`
  const events = call
    ? [
        chunk({
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              index: 0,
              id: call.id,
              type: 'function',
              function: { name: call.function.name, arguments: '' },
            },
          ],
        }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: call.function.arguments.slice(0, 5) } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: call.function.arguments.slice(5) } }] }),
      ]
    : [chunk({ role: 'assistant', content: '' }), chunk({ content: turn.text })]
  events.push(chunk({}, finish))
  events.push(
    `data: ${JSON.stringify({ id: 'chatcmpl-mock-tools', object: 'chat.completion.chunk', created: 1_700_000_000, model, choices: [], usage })}\n\n`,
  )
  events.push('data: [DONE]\n\n')
  return replies.sse(events)
}

/** OpenAI's own Responses API: a response, or its event stream, with the text given. */
export function responsesReply(body: Json, text: string): Response {
  const model = String(body.model ?? 'gpt-4.1')
  const response = (status: string, output: Json[], withUsage: boolean) => ({
    id: 'resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b',
    object: 'response',
    created_at: 1741476542,
    status,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: `${model}-2025-04-14`,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1.0,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1.0,
    truncation: 'disabled',
    usage: withUsage
      ? {
          input_tokens: 36,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: 87,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: 123,
        }
      : null,
    user: null,
    metadata: {},
  })
  const id = 'msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b'
  const part = (t: string) => ({ type: 'output_text', text: t, annotations: [] })
  const item = (t: string, status: string) => ({
    type: 'message',
    id,
    status,
    role: 'assistant',
    content: t === '' && status === 'in_progress' ? [] : [part(t)],
  })
  if (!body.stream) return Response.json(response('completed', [item(text, 'completed')], true))
  let seq = 0
  const ev = (type: string, data: Json) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`
  const [first, second] = [text.slice(0, 5), text.slice(5)]
  return replies.sse([
    ev('response.created', { response: response('in_progress', [], false) }),
    ev('response.in_progress', { response: response('in_progress', [], false) }),
    ev('response.output_item.added', { output_index: 0, item: item('', 'in_progress') }),
    ev('response.content_part.added', { item_id: id, output_index: 0, content_index: 0, part: part('') }),
    ev('response.output_text.delta', {
      item_id: id,
      output_index: 0,
      content_index: 0,
      delta: first,
      logprobs: [],
    }),
    ev('response.output_text.delta', {
      item_id: id,
      output_index: 0,
      content_index: 0,
      delta: second,
      logprobs: [],
    }),
    ev('response.output_text.done', { item_id: id, output_index: 0, content_index: 0, text, logprobs: [] }),
    ev('response.content_part.done', { item_id: id, output_index: 0, content_index: 0, part: part(text) }),
    ev('response.output_item.done', { output_index: 0, item: item(text, 'completed') }),
    ev('response.completed', { response: response('completed', [item(text, 'completed')], true) }),
  ])
}
