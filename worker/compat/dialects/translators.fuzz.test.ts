import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { AppError } from '../../http/errors'
import { deeperThan } from './chat'
import { chatToMessage, messagesToChat } from './messages'
import { MessagesStream } from './messages-stream'
import { chatToResponse, responseContext, responsesToChat } from './responses'
import { ResponsesStream } from './responses-stream'
import { ChatChunk, ChatCompletion, isChatChunk } from './shapes'
import { translateStream, type StreamTranslator } from './sse'

// Property-based: arbitrary JSON in every field the translations read, near-valid shapes mixed with
// anything at all. A translation answers a chat request or a 400 of its own, never another error;
// upstream answers are read or refused; a stream always ends with the dialect's closing or error event.
// `pnpm test:long` runs ten times as many cases.
const RUNS = Number(process.env.FUZZ_RUNS ?? 300)

const anything = fc.jsonValue({ maxDepth: 3 })
const or = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, arb, anything)
const record = (fields: Record<string, fc.Arbitrary<unknown>>) => or(fc.record(fields, { requiredKeys: [] }))
const listOf = (item: fc.Arbitrary<unknown>) => or(fc.array(item, { maxLength: 4 }))
const str = or(fc.string({ maxLength: 12 }))

const textBlock = record({ type: or(fc.constant('text')), text: str })
const anthropicBlock = record({
  type: or(fc.constantFrom('text', 'image', 'tool_result', 'tool_use', 'thinking', 'document')),
  text: str,
  source: record({ type: or(fc.constantFrom('base64', 'url')), media_type: str, data: str, url: str }),
  tool_use_id: str,
  content: or(fc.oneof(fc.string(), fc.array(textBlock, { maxLength: 3 }))),
  is_error: or(fc.boolean()),
  id: str,
  name: str,
  input: anything,
})
const messagesBody = record({
  messages: listOf(
    record({
      role: or(fc.constantFrom('user', 'assistant')),
      content: or(fc.oneof(fc.string(), fc.array(anthropicBlock, { maxLength: 4 }))),
    }),
  ),
  system: or(fc.oneof(fc.string(), fc.array(textBlock, { maxLength: 2 }))),
  max_tokens: or(fc.integer()),
  stop_sequences: listOf(fc.string()),
  metadata: record({ user_id: str }),
  tools: listOf(
    record({
      type: or(fc.constantFrom('custom', 'web_search_20250305')),
      name: str,
      description: str,
      input_schema: anything,
    }),
  ),
  tool_choice: record({
    type: or(fc.constantFrom('auto', 'any', 'none', 'tool')),
    name: str,
    disable_parallel_tool_use: or(fc.boolean()),
  }),
  stream: or(fc.boolean()),
})

const part = record({
  type: or(fc.constantFrom('input_text', 'output_text', 'input_image', 'input_file')),
  text: str,
  image_url: str,
  detail: str,
  file_id: str,
})
const item = record({
  type: or(
    fc.constantFrom('message', 'function_call', 'function_call_output', 'reasoning', 'item_reference'),
  ),
  role: or(fc.constantFrom('user', 'assistant', 'system', 'developer', 'tool')),
  content: or(fc.oneof(fc.string(), fc.array(part, { maxLength: 3 }))),
  call_id: str,
  name: str,
  arguments: str,
  output: or(fc.oneof(fc.string(), fc.array(part, { maxLength: 3 }))),
})
const responsesBody = record({
  input: or(fc.oneof(fc.string(), fc.array(item, { maxLength: 4 }))),
  instructions: str,
  tools: listOf(
    record({
      type: or(fc.constantFrom('function', 'file_search')),
      name: str,
      parameters: anything,
      strict: or(fc.boolean()),
    }),
  ),
  tool_choice: or(
    fc.oneof(
      fc.constantFrom('auto', 'none', 'required', 'x'),
      record({ type: or(fc.constant('function')), name: str }),
    ),
  ),
  text: record({
    format: record({ type: or(fc.constantFrom('json_schema', 'json_object', 'text')), schema: anything }),
  }),
  reasoning: record({ effort: str }),
  previous_response_id: or(fc.constant(null)),
  store: or(fc.boolean()),
  stream: or(fc.boolean()),
})

const toolCall = record({
  id: str,
  type: or(fc.constant('function')),
  function: record({ name: str, arguments: str }),
})
const completion = record({
  choices: listOf(
    record({
      message: record({
        content: or(fc.oneof(fc.string(), fc.constant(null))),
        tool_calls: listOf(toolCall),
      }),
      finish_reason: str,
    }),
  ),
  usage: record({ prompt_tokens: or(fc.nat()), completion_tokens: or(fc.nat()) }),
})
const chunk = record({
  choices: listOf(
    record({
      delta: record({
        content: str,
        tool_calls: listOf(
          record({ index: or(fc.nat(3)), id: str, function: record({ name: str, arguments: str }) }),
        ),
      }),
      finish_reason: or(fc.constantFrom('stop', 'length', 'tool_calls')),
    }),
  ),
  usage: record({ prompt_tokens: or(fc.nat()), completion_tokens: or(fc.nat()) }),
  error: or(fc.constant(undefined)),
})

/** A translation either answers or throws keyrelay's own 400; JSON of its answer always serialises. */
function answersOr400(translate: () => unknown): void {
  try {
    JSON.stringify(translate())
  } catch (e) {
    expect(e).toBeInstanceOf(AppError)
    expect((e as AppError).status).toBe(400)
  }
}

describe('client bodies', () => {
  test('Messages → Chat: a chat request or a 400', () => {
    fc.assert(
      fc.property(messagesBody, (body) => answersOr400(() => messagesToChat(body, 'm'))),
      { numRuns: RUNS },
    )
  })

  test('Responses → Chat: a chat request or a 400', () => {
    fc.assert(
      fc.property(responsesBody, (body) => answersOr400(() => responsesToChat(body, 'm'))),
      { numRuns: RUNS },
    )
  })
})

test('upstream completions: read when they are chat completions, and the translation never throws', () => {
  fc.assert(
    fc.property(completion, (json) => {
      const parsed = ChatCompletion.safeParse(json)
      if (!parsed.success) return
      JSON.stringify(chatToMessage(parsed.data, 'p/m'))
      JSON.stringify(chatToResponse(parsed.data, responseContext({}, 'p/m')))
    }),
    { numRuns: RUNS },
  )
})

async function translated(payloads: unknown[], translator: StreamTranslator): Promise<string> {
  const text = payloads.map((p) => `data: ${JSON.stringify(p) ?? 'null'}\n\n`).join('') + 'data: [DONE]\n\n'
  const body = new Response(text).body as ReadableStream<Uint8Array>
  return new Response(translateStream(body, translator)).text()
}

describe('streams always end with the closing event or an error event', () => {
  const streams = fc.array(or(chunk), { maxLength: 6 })

  test('Chat chunks → Messages events', async () => {
    await fc.assert(
      fc.asyncProperty(streams, async (payloads) => {
        const out = await translated(payloads, new MessagesStream('p/m'))
        const last = out.trimEnd().split('\n\n').at(-1) ?? ''
        expect(last).toMatch(/^event: (message_stop|error)\n/)
      }),
      { numRuns: RUNS },
    )
  })

  test('Chat chunks → Responses events', async () => {
    await fc.assert(
      fc.asyncProperty(streams, async (payloads) => {
        const out = await translated(payloads, new ResponsesStream(responseContext({}, 'p/m')))
        const last = out.trimEnd().split('\n\n').at(-1) ?? ''
        expect(last).toMatch(/^event: response\.(completed|incomplete|failed)\n/)
      }),
      { numRuns: RUNS },
    )
  })
})

test('the hand-written chunk check answers as the zod schema does, on near-valid and arbitrary JSON', () => {
  fc.assert(
    fc.property(fc.oneof(chunk, fc.jsonValue({ maxDepth: 4 })), (value) => {
      expect(isChatChunk(value)).toBe(ChatChunk.safeParse(value).success)
    }),
    { numRuns: RUNS * 3 },
  )
})

test('deeperThan: exact at the bound, and safe at any depth', () => {
  const nest = (depth: number) => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown
  expect(deeperThan(nest(100), 100)).toBe(false)
  expect(deeperThan(nest(101), 100)).toBe(true)
  expect(deeperThan(nest(100_000), 100)).toBe(true)
  expect(deeperThan({ a: 'x', b: [1, 2, { c: null }] }, 3)).toBe(false)
  expect(deeperThan({ a: 'x', b: [1, 2, { c: null }] }, 2)).toBe(true)
})
