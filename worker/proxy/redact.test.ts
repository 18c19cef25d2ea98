import { describe, expect, test } from 'vitest'
import { openaiInvalidKey } from '../../test/gateway/fixtures'
import { redactKey } from './redact'

const key = 'sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90abcd'

describe('redactKey', () => {
  test("OpenAI's 401 echo of the key's head and tail is masked, the rest of the error kept", () => {
    const body = openaiInvalidKey.replace('sk-proj-****', 'sk-proj-****abcd')
    const out = redactKey(body, key)
    expect(out).not.toContain('abcd')
    expect(out).not.toContain('sk-proj-')
    expect(JSON.parse(out)).toMatchObject({
      error: {
        code: 'invalid_api_key',
        type: 'invalid_request_error',
        message: expect.stringContaining('[redacted]'),
      },
    })
    expect(out).toContain('You can find your API key at https://platform.openai.com/account/api-keys.')
  })

  test('the whole key, or any long piece of it, is masked', () => {
    expect(redactKey(`{"error":"bad key ${key}"}`, key)).toBe('{"error":"bad key [redacted]"}')
    expect(redactKey(`key=${key.slice(5, 30)}!`, key)).toBe('key=[redacted]!')
  })

  test('Google-style masks (…, ****) that end like the key are masked', () => {
    const g = 'AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5x9Qk'
    expect(redactKey("Consumer 'api_key:AIza…x9Qk' has been suspended.", g)).toBe(
      "Consumer 'api_key:[redacted]' has been suspended.",
    )
    expect(redactKey('key AIza****x9Qk invalid', g)).toBe('key [redacted] invalid')
  })

  test('text that does not come from the key is left alone', () => {
    const text =
      '{"error":{"message":"Rate limit reached for gpt-4o-mini … try again in 20s","code":"rate_limit_exceeded"}}'
    expect(redactKey(text, key)).toBe(text)
  })
})
