import { describe, expect, test } from 'vitest'
import { AuthKeyFormatError, entryAllows, entryAllowsProvider, isExpired, parseAuthKeys } from './auth-key'

describe('AUTH_KEY grammar (one-balance compatible)', () => {
  test('a single unrestricted key', () => {
    const [entry, ...more] = parseAuthKeys('s3cret')
    expect(more).toHaveLength(0)
    expect(entry).toEqual({ secret: 's3cret' })
  })

  test('several entries with expiry and provider/model rules', () => {
    const entries = parseAuthKeys(
      ' admin ; guest(1700000000)=google-ai-studio,gemini-2.5-flash,gemini-2.5-pro&openai ; bot=anthropic ;',
    )
    expect(entries.map((e) => e.secret)).toEqual(['admin', 'guest', 'bot'])
    const guest = entries[1]!
    expect(guest.expiresAt).toBe(1_700_000_000)
    expect(entryAllows(guest, 'google-ai-studio', 'gemini-2.5-flash')).toBe(true)
    expect(entryAllows(guest, 'google-ai-studio', 'gemini-2.0-flash')).toBe(false)
    expect(entryAllows(guest, 'google-ai-studio', undefined)).toBe(false)
    expect(entryAllows(guest, 'openai', 'gpt-4o')).toBe(true)
    expect(entryAllows(guest, 'anthropic', 'claude')).toBe(false)
    expect(entryAllows(entries[0]!, 'anthropic', undefined)).toBe(true)
    expect(entryAllowsProvider(guest, 'google-ai-studio')).toBe(true)
    expect(entryAllowsProvider(guest, 'anthropic')).toBe(false)
  })

  test('expiry is inclusive of the stated second', () => {
    const [e] = parseAuthKeys('k(100)')
    expect(isExpired(e!, 99)).toBe(false)
    expect(isExpired(e!, 100)).toBe(true)
  })

  test.each([[''], [' ; '], ['k(abc)'], ['k=openai,'], ['k=&openai'], ['k(1)(2)']])(
    'rejects %j with a message that does not quote it',
    (raw) => {
      let error: unknown
      try {
        parseAuthKeys(raw)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(AuthKeyFormatError)
      if (raw.trim()) expect((error as Error).message).not.toContain(raw.trim())
    },
  )
})
