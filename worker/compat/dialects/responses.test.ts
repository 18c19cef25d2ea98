import { describe, expect, test } from 'vitest'
import { chatToResponse, responseContext, responsesToChat } from './responses'
import { ResponsesStream } from './responses-stream'

// Request and response bodies from OpenAI's API reference (Responses, Chat Completions).
describe('Responses → Chat Completions', () => {
  test('string input and instructions', () => {
    expect(
      responsesToChat(
        { model: 'x', instructions: 'Talk like a pirate.', input: 'Are semicolons optional in JavaScript?' },
        'google-ai-studio/gemini-2.5-flash',
      ),
    ).toEqual({
      model: 'google-ai-studio/gemini-2.5-flash',
      messages: [
        { role: 'system', content: 'Talk like a pirate.' },
        { role: 'user', content: 'Are semicolons optional in JavaScript?' },
      ],
    })
  })

  test('message items with text and images, developer role, options, json_schema, streaming', () => {
    const chat = responsesToChat(
      {
        input: [
          { role: 'developer', content: 'Answer in JSON.' },
          {
            role: 'user',
            content: [
              { type: 'input_text', text: 'what is in this image?' },
              {
                type: 'input_image',
                image_url:
                  'https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg',
                detail: 'low',
              },
            ],
          },
          {
            type: 'message',
            role: 'assistant',
            content: [{ type: 'output_text', text: 'A boardwalk.', annotations: [] }],
          },
        ],
        max_output_tokens: 300,
        temperature: 0.2,
        top_p: 0.9,
        text: {
          format: {
            type: 'json_schema',
            name: 'scene',
            schema: { type: 'object', properties: { scene: { type: 'string' } } },
            strict: true,
          },
        },
        stream: true,
      },
      'mistral/mistral-small',
    )
    expect(chat.messages).toEqual([
      { role: 'system', content: 'Answer in JSON.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what is in this image?' },
          { type: 'image_url', image_url: { url: expect.stringContaining('boardwalk.jpg'), detail: 'low' } },
        ],
      },
      { role: 'assistant', content: 'A boardwalk.' },
    ])
    expect(chat).toMatchObject({
      max_tokens: 300,
      temperature: 0.2,
      top_p: 0.9,
      response_format: { type: 'json_schema', json_schema: { name: 'scene', strict: true } },
      stream: true,
      stream_options: { include_usage: true },
    })
  })

  test('function calls and their outputs become tool calls and tool messages; tool_choice by name', () => {
    const chat = responsesToChat(
      {
        input: [
          { role: 'user', content: 'What is the weather like in Paris today?' },
          {
            type: 'function_call',
            id: 'fc_12345xyz',
            call_id: 'call_12345xyz',
            name: 'get_weather',
            arguments: '{"location":"Paris, France"}',
          },
          { type: 'function_call_output', call_id: 'call_12345xyz', output: '{"temperature": 22}' },
        ],
        tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object' } }],
        tool_choice: { type: 'function', name: 'get_weather' },
      },
      'groq/llama-3.3-70b',
    )
    expect(chat.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_12345xyz',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"location":"Paris, France"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_12345xyz', content: '{"temperature": 22}' },
    ])
    expect(chat.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } })
  })

  test.each([
    [{ previous_response_id: 'resp_1' }, 'previous_response_id'],
    [{ store: true }, 'store'],
    [{ background: true }, 'background'],
    [{ tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }] }, 'file_search'],
    [{ input: [{ type: 'item_reference', id: 'msg_1' }] }, 'item_reference'],
  ])('refuses %j, naming it', (extra, name) => {
    expect(() => responsesToChat({ input: 'hi', ...extra }, 'm/x')).toThrow(name)
  })
})

describe('Chat Completions → Responses', () => {
  const ctx = responseContext(
    { model: 'google-ai-studio/gemini-2.5-flash', input: 'hi' },
    'google-ai-studio/gemini-2.5-flash',
  )

  test('text, tool calls, usage; a length stop is incomplete', () => {
    const r = chatToResponse(
      {
        id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
        choices: [
          {
            message: {
              content: 'Hello there',
              tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'f', arguments: '{}' } }],
            },
            finish_reason: 'length',
          },
        ],
        usage: {
          prompt_tokens: 19,
          completion_tokens: 10,
          total_tokens: 29,
          completion_tokens_details: { reasoning_tokens: 2 },
        },
      },
      ctx,
    )
    expect(r).toMatchObject({
      object: 'response',
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      model: 'google-ai-studio/gemini-2.5-flash',
      output: [
        {
          type: 'message',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Hello there', annotations: [] }],
        },
        { type: 'function_call', id: 'fc_call_abc', call_id: 'call_abc', name: 'f', arguments: '{}' },
      ],
      usage: {
        input_tokens: 19,
        output_tokens: 10,
        total_tokens: 29,
        output_tokens_details: { reasoning_tokens: 2 },
      },
    })
  })

  test('a stream: created, item added, deltas, done events, completed with the whole output', () => {
    const s = new ResponsesStream(ctx)
    const events = [
      ...s.chunk({ choices: [{ delta: { role: 'assistant', content: '' } }] }),
      ...s.chunk({ choices: [{ delta: { content: 'Hel' } }] }),
      ...s.chunk({ choices: [{ delta: { content: 'lo' } }] }),
      ...s.chunk({ choices: [{ delta: {}, finish_reason: 'stop' }] }),
      ...s.chunk({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } }),
      ...s.end(),
    ].map(
      (e) =>
        JSON.parse(e.split('\ndata: ')[1]!) as {
          type: string
          sequence_number: number
          response?: { output: unknown[]; usage: unknown }
        },
    )
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ])
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i))
    expect(events.at(-1)?.response).toMatchObject({
      output: [{ type: 'message', content: [{ type: 'output_text', text: 'Hello' }] }],
      usage: { input_tokens: 3, output_tokens: 2 },
    })
  })

  test('a streamed tool call, and a stream that breaks off', () => {
    const s = new ResponsesStream(ctx)
    const types = [
      ...s.chunk({
        choices: [
          { delta: { tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '' } }] } },
        ],
      }),
      ...s.chunk({
        choices: [
          {
            delta: { tool_calls: [{ index: 0, function: { arguments: '{"a":1}' } }] },
            finish_reason: 'tool_calls',
          },
        ],
      }),
      ...s.end(),
    ].map((e) => e.split('\n')[0])
    expect(types).toEqual([
      'event: response.created',
      'event: response.in_progress',
      'event: response.output_item.added',
      'event: response.function_call_arguments.delta',
      'event: response.function_call_arguments.done',
      'event: response.output_item.done',
      'event: response.completed',
    ])
    const cut = new ResponsesStream(ctx)
    cut.chunk({ choices: [{ delta: { content: 'Hel' } }] })
    const failed = cut.chunk({
      error: { message: 'The upstream stream was interrupted', code: 'stream_interrupted' },
    })
    expect(failed.map((e) => e.split('\n')[0])).toEqual(['event: error', 'event: response.failed'])
    expect(cut.end()).toEqual([])
  })
})
