import { describe, expect, test } from 'vitest'
import { UsageMeter } from './usage-meter'
import { readUsage } from './usage-read'

// Answers as each provider sends them (shapes from their API references), each with the tokens it
// reports: every input token (cached included), output, and the cached part.
const sse = (...events: unknown[]) => events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')
const named = (...events: [string, unknown][]) =>
  events.map(([name, e]) => `event: ${name}\ndata: ${JSON.stringify(e)}\n\n`).join('')

const ANSWERS: [string, string, { input: number; output: number; cached: number } | undefined][] = [
  [
    'OpenAI chat, cached prompt tokens',
    JSON.stringify({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'The field is "usage": {}' } }],
      usage: {
        prompt_tokens: 2006,
        completion_tokens: 300,
        total_tokens: 2306,
        prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
      system_fingerprint: 'fp_1',
    }),
    { input: 2006, output: 300, cached: 1920 },
  ],
  [
    'OpenAI chat stream with include_usage (usage null on every chunk but the last)',
    sse(
      { id: 'c', choices: [{ index: 0, delta: { content: 'Hi' } }], usage: null },
      { id: 'c', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: null },
      { id: 'c', choices: [], usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 } },
    ) + 'data: [DONE]\n\n',
    { input: 12, output: 7, cached: 0 },
  ],
  [
    'OpenAI embeddings',
    JSON.stringify({
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [0.1, -0.2] }],
      model: 'text-embedding-3-small',
      usage: { prompt_tokens: 8, total_tokens: 8 },
    }),
    { input: 8, output: 0, cached: 0 },
  ],
  [
    'OpenAI Responses stream (usage null until response.completed)',
    named(
      ['response.created', { type: 'response.created', response: { id: 'resp_1', usage: null } }],
      [
        'response.output_text.delta',
        { type: 'response.output_text.delta', delta: '"usage":{"input_tokens":9e9}' },
      ],
      [
        'response.completed',
        {
          type: 'response.completed',
          response: {
            id: 'resp_1',
            usage: {
              input_tokens: 36,
              input_tokens_details: { cached_tokens: 16 },
              output_tokens: 87,
              output_tokens_details: { reasoning_tokens: 64 },
              total_tokens: 123,
            },
          },
        },
      ],
    ),
    { input: 36, output: 87, cached: 16 },
  ],
  [
    'Anthropic message, cache reads not in input_tokens',
    JSON.stringify({
      id: 'msg_1',
      type: 'message',
      content: [{ type: 'text', text: 'Hi' }],
      usage: {
        input_tokens: 21,
        cache_creation_input_tokens: 188,
        cache_read_input_tokens: 1000,
        output_tokens: 393,
      },
    }),
    { input: 1209, output: 393, cached: 1000 },
  ],
  [
    'Anthropic stream: input in message_start, output in message_delta',
    named(
      [
        'message_start',
        {
          type: 'message_start',
          message: {
            id: 'msg_1',
            usage: {
              input_tokens: 25,
              cache_creation_input_tokens: 0,
              cache_read_input_tokens: 10,
              output_tokens: 1,
            },
          },
        },
      ],
      [
        'content_block_delta',
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } },
      ],
      [
        'message_delta',
        { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 15 } },
      ],
      ['message_stop', { type: 'message_stop' }],
    ),
    { input: 35, output: 15, cached: 10 },
  ],
  [
    'Google generateContent, thoughts billed as output',
    JSON.stringify({
      candidates: [{ content: { parts: [{ text: 'Hi' }], role: 'model' }, finishReason: 'STOP' }],
      usageMetadata: {
        promptTokenCount: 40,
        candidatesTokenCount: 12,
        thoughtsTokenCount: 30,
        cachedContentTokenCount: 32,
        totalTokenCount: 82,
        promptTokensDetails: [{ modality: 'TEXT', tokenCount: 40 }],
      },
      modelVersion: 'gemini-2.5-flash',
    }),
    { input: 40, output: 42, cached: 32 },
  ],
  [
    'Google stream: running totals on every chunk',
    sse(
      {
        candidates: [{ content: { parts: [{ text: 'a' }] } }],
        usageMetadata: { promptTokenCount: 4, totalTokenCount: 4 },
      },
      {
        candidates: [{ content: { parts: [{ text: 'b' }] } }],
        usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 1, totalTokenCount: 5 },
      },
      {
        candidates: [{ content: { parts: [{ text: 'c' }] }, finishReason: 'STOP' }],
        usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 2, totalTokenCount: 6 },
      },
    ),
    { input: 4, output: 2, cached: 0 },
  ],
  [
    'model output quoting a usage object is text, not usage',
    JSON.stringify({ choices: [{ message: { content: '{"usage":{"prompt_tokens":999}}' } }] }),
    undefined,
  ],
]

describe('UsageMeter reads every format, however the answer is cut into chunks', () => {
  for (const [name, body, expected] of ANSWERS) {
    test(name, () => {
      const whole = new UsageMeter()
      whole.feed(body)
      expect(whole.result()).toEqual(expected)
      // Cut in two at every position: a key or an object split across chunks is still read once.
      for (let cut = 1; cut < body.length; cut++) {
        const m = new UsageMeter()
        m.feed(body.slice(0, cut))
        m.feed(body.slice(cut))
        expect(m.result(), `cut at ${cut}`).toEqual(expected)
      }
      // And byte by byte.
      const slow = new UsageMeter()
      for (const c of body) slow.feed(c)
      expect(slow.result()).toEqual(expected)
    })
  }

  test('a usage object longer than what is kept between chunks is given up, not held', () => {
    const m = new UsageMeter()
    m.feed(`{"usage":{"prompt_tokens":3,"pad":"${'x'.repeat(10_000)}`)
    m.feed('","completion_tokens":4}}')
    expect(m.result()).toBeUndefined()
  })
})

describe('readUsage', () => {
  test('an object of no known format, or of negative or absent figures, counts nothing', () => {
    expect(readUsage({ tokens: 5 })).toBeUndefined()
    expect(readUsage(null)).toBeUndefined()
    expect(readUsage([1])).toBeUndefined()
    expect(readUsage({ prompt_tokens: -5, completion_tokens: 'many' })).toEqual({
      input: 0,
      output: 0,
      cached: 0,
    })
  })
})
