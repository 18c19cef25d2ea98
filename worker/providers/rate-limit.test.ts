import { describe, expect, test } from 'vitest'
import {
  parseGoDuration,
  parseProtoDuration,
  parseResetTime,
  parseRetryAfter,
  parseRetryAfterMs,
  pacificDayStart,
  secondsUntilPacificMidnight,
} from './rate-limit'

const at = (iso: string) => Date.parse(iso)

describe('secondsUntilPacificMidnight', () => {
  test('in winter (PST, UTC-8) midnight Pacific is 08:00 UTC', () => {
    expect(secondsUntilPacificMidnight(at('2026-01-15T07:00:00Z'))).toBe(3600)
    expect(secondsUntilPacificMidnight(at('2026-01-15T08:00:00Z'))).toBe(24 * 3600)
  })

  test('in summer (PDT, UTC-7) midnight Pacific is 07:00 UTC', () => {
    expect(secondsUntilPacificMidnight(at('2026-07-01T06:59:30Z'))).toBe(30)
    expect(secondsUntilPacificMidnight(at('2026-07-01T12:00:00Z'))).toBe(19 * 3600)
  })

  test('on the day DST starts the Pacific day is 23 hours long', () => {
    // 2026-03-08: clocks jump from 02:00 PST to 03:00 PDT. Midnight starting the day was 08:00 UTC;
    // the next one (2026-03-09 00:00 PDT) is 07:00 UTC on the 9th.
    expect(secondsUntilPacificMidnight(at('2026-03-08T08:00:00Z'))).toBe(23 * 3600)
  })

  test('on the day DST ends the Pacific day is 25 hours long', () => {
    // 2026-11-01: clocks fall back from 02:00 PDT to 01:00 PST; next midnight is 08:00 UTC on the 2nd.
    expect(secondsUntilPacificMidnight(at('2026-11-01T07:00:00Z'))).toBe(25 * 3600)
  })
})

describe('rate-limit header parsers', () => {
  const now = at('2026-05-01T00:00:00Z')

  test('retry-after as seconds or an HTTP date', () => {
    expect(parseRetryAfter('20', now)).toBe(20)
    expect(parseRetryAfter('Fri, 01 May 2026 00:01:00 GMT', now)).toBe(60)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter(null, now)).toBeUndefined()
  })

  test('retry-after-ms', () => {
    expect(parseRetryAfterMs('1500')).toBe(1.5)
    expect(parseRetryAfterMs('x')).toBeUndefined()
  })

  test("OpenAI's reset durations", () => {
    expect(parseGoDuration('12ms')).toBeCloseTo(0.012)
    expect(parseGoDuration('20s')).toBe(20)
    expect(parseGoDuration('6m0s')).toBe(360)
    expect(parseGoDuration('1h2m3.5s')).toBe(3723.5)
    expect(parseGoDuration('banana')).toBeUndefined()
    expect(parseGoDuration('5x')).toBeUndefined()
  })

  test('absolute resets: epoch seconds, epoch milliseconds, RFC 3339', () => {
    expect(parseResetTime(String(now / 1000 + 30), now)).toBe(30)
    expect(parseResetTime(String(now + 45_000), now)).toBe(45)
    expect(parseResetTime('2026-05-01T00:00:10Z', now)).toBe(10)
  })

  test("Google's protobuf durations", () => {
    expect(parseProtoDuration('59s')).toBe(59)
    expect(parseProtoDuration('0.5s')).toBe(0.5)
    expect(parseProtoDuration(undefined)).toBeUndefined()
  })

  test('an absurd hint (beyond 48 h, or not a finite number) is no hint at all', () => {
    expect(parseRetryAfter('99999999999', now)).toBeUndefined()
    expect(parseRetryAfter('9'.repeat(400), now)).toBeUndefined()
    expect(parseRetryAfter('Fri, 01 Jan 5200 00:00:00 GMT', now)).toBeUndefined()
    expect(parseRetryAfter(String(48 * 3600), now)).toBe(48 * 3600)
    expect(parseRetryAfterMs('9'.repeat(400))).toBeUndefined()
    expect(parseGoDuration('99999h')).toBeUndefined()
    expect(parseResetTime(String(now + 1e12), now)).toBeUndefined()
    expect(parseProtoDuration('999999999s')).toBeUndefined()
  })
})

describe('pacificDayStart', () => {
  const start = (iso: string) => new Date(pacificDayStart(Date.parse(iso))).toISOString()
  test('the last midnight in Los Angeles, standard and daylight time, across both changes', () => {
    expect(start('2026-12-04T21:00:00Z')).toBe('2026-12-04T08:00:00.000Z')
    expect(start('2026-12-04T07:59:00Z')).toBe('2026-12-03T08:00:00.000Z')
    expect(start('2026-07-04T12:00:00Z')).toBe('2026-07-04T07:00:00.000Z')
    // The day clocks go forward began in standard time; the day they go back, in daylight time.
    expect(start('2026-03-08T12:00:00Z')).toBe('2026-03-08T08:00:00.000Z')
    expect(start('2026-03-09T07:30:00Z')).toBe('2026-03-09T07:00:00.000Z')
    expect(start('2026-11-01T12:00:00Z')).toBe('2026-11-01T07:00:00.000Z')
  })
})
