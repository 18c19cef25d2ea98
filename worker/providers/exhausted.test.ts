import { describe, expect, test } from 'vitest'
import { anthropicExhausted } from './anthropic'
import { openAiExhausted } from './openai-style'

// Header values as OpenAI, Groq and Anthropic document and send them on successful answers.
const at = Date.parse('2026-01-15T12:00:00Z')
const h = (headers: Record<string, string>) => new Headers(headers)

describe('rotating before the 429: a successful answer that says the key is spent', () => {
  test('OpenAI: budget left means nothing to do', () => {
    const headers = h({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-limit-tokens': '150000',
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-remaining-tokens': '149984',
      'x-ratelimit-reset-requests': '1s',
      'x-ratelimit-reset-tokens': '6m0s',
    })
    expect(openAiExhausted(headers, at)).toBeUndefined()
  })

  test.each([
    [
      {
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '6m0s',
        'x-ratelimit-remaining-tokens': '20000',
        'x-ratelimit-reset-tokens': '1s',
      },
      361,
    ],
    [
      {
        'x-ratelimit-limit-tokens': '150000',
        'x-ratelimit-remaining-tokens': '1000',
        'x-ratelimit-reset-tokens': '17ms',
        'x-ratelimit-remaining-requests': '12',
      },
      2,
    ],
    // Groq: requests per day, tokens per minute; both spent, the later reset wins.
    [
      {
        'x-ratelimit-limit-requests': '14400',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '2m59.56s',
        'x-ratelimit-limit-tokens': '18000',
        'x-ratelimit-remaining-tokens': '0',
        'x-ratelimit-reset-tokens': '7.66s',
      },
      181,
    ],
  ])('OpenAI-style %j rests the key %i s', (headers, seconds) => {
    expect(openAiExhausted(h(headers), at)).toBe(seconds)
  })

  test('Anthropic: a spent request or output-token budget rests the key until its RFC 3339 reset', () => {
    expect(
      anthropicExhausted(
        h({
          'anthropic-ratelimit-requests-limit': '50',
          'anthropic-ratelimit-requests-remaining': '0',
          'anthropic-ratelimit-requests-reset': '2026-01-15T12:00:30Z',
          'anthropic-ratelimit-tokens-remaining': '39000',
          'anthropic-ratelimit-tokens-reset': '2026-01-15T12:00:05Z',
        }),
        at,
      ),
    ).toBe(31)
    expect(
      anthropicExhausted(
        h({
          'anthropic-ratelimit-output-tokens-limit': '8000',
          'anthropic-ratelimit-output-tokens-remaining': '12',
          'anthropic-ratelimit-output-tokens-reset': '2026-01-15T12:00:09Z',
          'anthropic-ratelimit-requests-remaining': '49',
        }),
        at,
      ),
    ).toBe(10)
    expect(anthropicExhausted(h({ 'anthropic-ratelimit-requests-remaining': '49' }), at)).toBeUndefined()
  })
})
