/**
 * The shapes the translations read, checked at the boundary: a client's Messages or Responses body
 * before it is translated, and what the upstream Chat Completions endpoint answers (a completion, or
 * each chunk of a stream) before it is translated back. Every object is loose (fields a translation
 * does not read pass or are ignored); every field it reads has its type checked here, so the
 * translations never meet a `null` where an object should be.
 */
import * as z from '../../http/schema'

const text = z.optional(z.nullable(z.string()))
const num = z.optional(z.nullable(z.number()))
const bool = z.optional(z.nullable(z.boolean()))

// Anthropic Messages (docs.anthropic.com/en/api/messages).

const TextBlock = z.looseObject({ type: z.string(), text })

const MessagesBlock = z.looseObject({
  type: z.string(),
  text,
  source: z.optional(z.looseObject({ type: z.string(), media_type: text, data: text, url: text })),
  tool_use_id: text,
  content: z.optional(z.nullable(z.union([z.string(), z.array(TextBlock)]))),
  is_error: bool,
  id: text,
  name: text,
  input: z.optional(z.unknown()),
})

// `model` is read (and checked) before any translation: compat-body.ts.
export const MessagesRequest = z.looseObject({
  messages: z.array(
    z.looseObject({ role: z.string(), content: z.union([z.string(), z.array(MessagesBlock)]) }),
  ),
  system: z.optional(z.nullable(z.union([z.string(), z.array(TextBlock)]))),
  max_tokens: num,
  temperature: num,
  top_p: num,
  stop_sequences: z.optional(z.nullable(z.array(z.string()))),
  metadata: z.optional(z.nullable(z.looseObject({ user_id: text }))),
  tools: z.optional(
    z.nullable(
      z.array(
        z.looseObject({
          type: text,
          name: z.string(),
          description: text,
          input_schema: z.optional(z.unknown()),
        }),
      ),
    ),
  ),
  tool_choice: z.optional(
    z.nullable(z.looseObject({ type: z.string(), name: text, disable_parallel_tool_use: bool })),
  ),
  stream: bool,
})
export type MessagesRequest = z.infer<typeof MessagesRequest>
export type MessagesBlock = z.infer<typeof MessagesBlock>

// OpenAI Responses (platform.openai.com/docs/api-reference/responses/create).

const ContentPart = z.looseObject({ type: z.string(), text, image_url: text, detail: text, file_id: text })
const Content = z.optional(z.nullable(z.union([z.string(), z.array(ContentPart)])))

const InputItem = z.looseObject({
  type: text,
  role: text,
  content: Content,
  call_id: text,
  id: text,
  name: text,
  arguments: text,
  output: Content,
})

export const ResponsesRequest = z.looseObject({
  input: z.union([z.string(), z.array(InputItem)]),
  instructions: text,
  max_output_tokens: num,
  temperature: num,
  top_p: num,
  parallel_tool_calls: bool,
  user: text,
  reasoning: z.optional(z.nullable(z.looseObject({ effort: text }))),
  tools: z.optional(
    z.nullable(
      z.array(
        z.looseObject({
          type: z.string(),
          name: text,
          description: text,
          parameters: z.optional(z.unknown()),
          strict: bool,
        }),
      ),
    ),
  ),
  tool_choice: z.optional(z.nullable(z.union([z.string(), z.looseObject({ type: z.string(), name: text })]))),
  text: z.optional(
    z.nullable(z.looseObject({ format: z.optional(z.nullable(z.looseObject({ type: z.string() }))) })),
  ),
  stream: bool,
})
export type ResponsesRequest = z.infer<typeof ResponsesRequest>
export type InputItem = z.infer<typeof InputItem>
export type ContentPart = z.infer<typeof ContentPart>

// Chat Completions as the upstream answers it (platform.openai.com/docs/api-reference/chat).

const Usage = z.optional(
  z.nullable(
    z.looseObject({
      prompt_tokens: num,
      completion_tokens: num,
      total_tokens: num,
      prompt_tokens_details: z.optional(z.nullable(z.looseObject({ cached_tokens: num }))),
      completion_tokens_details: z.optional(z.nullable(z.looseObject({ reasoning_tokens: num }))),
    }),
  ),
)

export const ChatCompletion = z.looseObject({
  id: text,
  model: text,
  choices: z.optional(
    z.nullable(
      z.array(
        z.looseObject({
          message: z.optional(
            z.nullable(
              z.looseObject({
                content: text,
                tool_calls: z.optional(
                  z.nullable(
                    z.array(
                      z.looseObject({
                        // Some OpenAI-compatible providers leave the id out; the translation makes one.
                        id: text,
                        function: z.looseObject({ name: z.string(), arguments: text }),
                      }),
                    ),
                  ),
                ),
              }),
            ),
          ),
          finish_reason: text,
        }),
      ),
    ),
  ),
  usage: Usage,
})
export type ChatCompletion = z.infer<typeof ChatCompletion>
export type ChatUsage = NonNullable<z.infer<typeof Usage>>

const ToolCallDelta = z.looseObject({
  // Google's OpenAI-compatible surface has sent tool call deltas without an index.
  index: num,
  id: text,
  function: z.optional(z.nullable(z.looseObject({ name: text, arguments: text }))),
})

export const ChatChunk = z.looseObject({
  choices: z.optional(
    z.nullable(
      z.array(
        z.looseObject({
          delta: z.optional(
            z.nullable(
              z.looseObject({ content: text, tool_calls: z.optional(z.nullable(z.array(ToolCallDelta))) }),
            ),
          ),
          finish_reason: text,
        }),
      ),
    ),
  ),
  usage: Usage,
  error: z.optional(
    z.nullable(
      z.looseObject({
        message: text,
        code: z.optional(z.nullable(z.union([z.string(), z.number()]))),
        type: text,
      }),
    ),
  ),
})
export type ChatChunk = z.infer<typeof ChatChunk>
export type ChatToolCallDelta = z.infer<typeof ToolCallDelta>

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const maybe = (v: unknown, is: (x: unknown) => boolean) => v === undefined || v === null || is(v)
const isString = (v: unknown) => typeof v === 'string'
const isNumber = (v: unknown) => typeof v === 'number'
const isUsage = (v: unknown) =>
  isObject(v) &&
  maybe(v.prompt_tokens, isNumber) &&
  maybe(v.completion_tokens, isNumber) &&
  maybe(v.total_tokens, isNumber) &&
  maybe(v.prompt_tokens_details, (d) => isObject(d) && maybe(d.cached_tokens, isNumber)) &&
  maybe(v.completion_tokens_details, (d) => isObject(d) && maybe(d.reasoning_tokens, isNumber))
const isToolCallDelta = (v: unknown) =>
  isObject(v) &&
  maybe(v.index, isNumber) &&
  maybe(v.id, isString) &&
  maybe(v.function, (f) => isObject(f) && maybe(f.name, isString) && maybe(f.arguments, isString))
const isChoice = (v: unknown) =>
  isObject(v) &&
  maybe(v.finish_reason, isString) &&
  maybe(
    v.delta,
    (d) =>
      isObject(d) &&
      maybe(d.content, isString) &&
      maybe(d.tool_calls, (t) => Array.isArray(t) && t.every(isToolCallDelta)),
  )

/**
 * The same check as ChatChunk, by hand: a stream sends a chunk every few milliseconds, and zod's
 * parse of each cost more CPU than the rest of the translation. The property test in
 * translators.fuzz.test.ts holds the two to the same answer on arbitrary JSON.
 */
export function isChatChunk(v: unknown): v is ChatChunk {
  return (
    isObject(v) &&
    maybe(v.choices, (c) => Array.isArray(c) && c.every(isChoice)) &&
    maybe(v.usage, isUsage) &&
    maybe(
      v.error,
      (e) =>
        isObject(e) &&
        maybe(e.message, isString) &&
        maybe(e.type, isString) &&
        maybe(e.code, (c) => isString(c) || isNumber(c)),
    )
  )
}
