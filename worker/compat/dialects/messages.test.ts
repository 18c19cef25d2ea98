import { describe, expect, test } from 'vitest'
import { anthropicError, chatToMessage, messagesToChat } from './messages'
import { MessagesStream } from './messages-stream'

// Bodies from Anthropic's Messages API reference and OpenAI's Chat Completions reference.
describe('Messages → Chat Completions', () => {
  test('system blocks, images, tool use and results, stop sequences, tool_choice any', () => {
    const chat = messagesToChat(
      {
        model: 'x',
        max_tokens: 1024,
        system: [{ type: 'text', text: 'You are a weather bot.' }],
        stop_sequences: ['\n\nHuman:'],
        messages: [
          {
            role: 'user',
            content: [
              {
                type: 'image',
                source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQSkZJRg==' },
              },
              { type: 'text', text: 'What is the weather like in San Francisco?' },
            ],
          },
          {
            role: 'assistant',
            content: [
              { type: 'text', text: 'Let me check.' },
              {
                type: 'tool_use',
                id: 'toolu_01A09q90qw90lq917835lq9',
                name: 'get_weather',
                input: { location: 'San Francisco, CA' },
              },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_01A09q90qw90lq917835lq9', content: '15 degrees' },
            ],
          },
        ],
        tools: [
          {
            name: 'get_weather',
            description: 'Get the current weather in a given location',
            input_schema: {
              type: 'object',
              properties: { location: { type: 'string' } },
              required: ['location'],
            },
          },
        ],
        tool_choice: { type: 'any', disable_parallel_tool_use: true },
      },
      'google-ai-studio/gemini-2.5-flash',
    )
    expect(chat.messages).toEqual([
      { role: 'system', content: 'You are a weather bot.' },
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQSkZJRg==' } },
          { type: 'text', text: 'What is the weather like in San Francisco?' },
        ],
      },
      {
        role: 'assistant',
        content: 'Let me check.',
        tool_calls: [
          {
            id: 'toolu_01A09q90qw90lq917835lq9',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_01A09q90qw90lq917835lq9', content: '15 degrees' },
    ])
    expect(chat).toMatchObject({
      max_tokens: 1024,
      stop: ['\n\nHuman:'],
      tool_choice: 'required',
      parallel_tool_calls: false,
      tools: [
        { type: 'function', function: { name: 'get_weather', parameters: { required: ['location'] } } },
      ],
    })
  })

  test('server tools are refused, naming their type', () => {
    expect(() =>
      messagesToChat({ messages: [], tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'm/x'),
    ).toThrow('web_search_20250305')
  })
})

describe('Chat Completions → Messages', () => {
  test('text and a tool call, with the stop reason and usage', () => {
    const msg = chatToMessage(
      {
        choices: [
          {
            message: {
              content: 'I will look.',
              tool_calls: [
                {
                  id: 'call_9',
                  type: 'function',
                  function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
                },
              ],
            },
            finish_reason: 'tool_calls',
          },
        ],
        usage: { prompt_tokens: 10, completion_tokens: 6, total_tokens: 16 },
      },
      'google-ai-studio/gemini-2.5-flash',
    )
    expect(msg).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [
        { type: 'text', text: 'I will look.' },
        { type: 'tool_use', id: 'call_9', name: 'get_weather', input: { location: 'Paris' } },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 10, output_tokens: 6 },
    })
    expect(
      chatToMessage({ choices: [{ message: { content: 'x' }, finish_reason: 'length' }] }, 'm').stop_reason,
    ).toBe('max_tokens')
  })

  test("errors in Anthropic's shape", () => {
    expect(anthropicError(429, 'slow down')).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'slow down' },
    })
    expect(anthropicError(502, 'x')).toEqual({ type: 'error', error: { type: 'api_error', message: 'x' } })
  })

  test('a stream: message_start, text block, tool block, message_delta, message_stop', () => {
    const s = new MessagesStream('google-ai-studio/gemini-2.5-flash')
    const events = [
      ...s.chunk({ choices: [{ delta: { content: 'Checking' } }] }),
      ...s.chunk({
        choices: [
          {
            delta: {
              tool_calls: [{ index: 0, id: 'call_1', function: { name: 'get_weather', arguments: '{"loc' } }],
            },
          },
        ],
      }),
      ...s.chunk({
        choices: [
          {
            delta: { tool_calls: [{ index: 0, function: { arguments: 'ation":"Paris"}' } }] },
            finish_reason: 'tool_calls',
          },
        ],
      }),
      ...s.chunk({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 9 } }),
      ...s.end(),
    ].map((e) => JSON.parse(e.split('\ndata: ')[1]!) as Record<string, unknown>)
    expect(events.map((e) => e.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ])
    expect(events[4]).toMatchObject({
      index: 1,
      content_block: { type: 'tool_use', id: 'call_1', name: 'get_weather' },
    })
    expect(events[6]).toMatchObject({
      index: 1,
      delta: { type: 'input_json_delta', partial_json: 'ation":"Paris"}' },
    })
    expect(events[8]).toMatchObject({ delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9 } })
  })

  test('a stream that breaks off ends with an error event', () => {
    const s = new MessagesStream('m')
    s.chunk({ choices: [{ delta: { content: 'Hel' } }] })
    const out = s.chunk({ error: { message: 'The upstream stream was interrupted' } })
    expect(out[0]).toBe(
      'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"The upstream stream was interrupted"}}\n\n',
    )
    expect(s.end()).toEqual([])
  })
})
