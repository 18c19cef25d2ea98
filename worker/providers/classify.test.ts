import { describe, expect, test } from 'vitest'
import * as f from '../../test/gateway/fixtures'
import { classifyAnthropic } from './anthropic'
import { classifyGoogle } from './google'
import { classifyOpenAiStyle } from './openai-style'
import type { CooldownPolicy, UpstreamError } from './types'

// 2026-01-15 12:00 UTC = 04:00 PST: 20 hours to Pacific midnight.
const policy: CooldownPolicy = {
  now: Date.parse('2026-01-15T12:00:00Z'),
  defaultSeconds: 60,
  creditSeconds: 21_600,
}
const err = (status: number, body: string, headers: Record<string, string> = {}): UpstreamError => ({
  status,
  body,
  headers: new Headers(headers),
})

describe('Google AI Studio', () => {
  test('a daily quota cools the model until Pacific midnight, although the body carries RetryInfo', () => {
    expect(classifyGoogle(err(429, f.googleDaily429), policy)).toEqual({
      kind: 'cooldown',
      seconds: 20 * 3600,
      allModels: false,
      reason: 'daily_quota',
      shared: true,
    })
  })

  test('a per-minute quota cools for RetryInfo plus a margin', () => {
    expect(classifyGoogle(err(429, f.googleMinute429), policy)).toMatchObject({
      kind: 'cooldown',
      seconds: 58,
    })
  })

  test('a 429 without details falls back to the default cooldown', () => {
    expect(classifyGoogle(err(429, '{"error":{"code":429}}'), policy)).toMatchObject({ seconds: 60 })
  })

  test('an errors array (streaming calls) is read like a single error', () => {
    expect(classifyGoogle(err(400, `[${f.googleInvalidKey}]`), policy)).toEqual({
      kind: 'block',
      reason: 'API_KEY_INVALID',
    })
  })

  test.each([
    ['invalid key', 400, f.googleInvalidKey, 'API_KEY_INVALID'],
    ['leaked key', 403, f.googleLeaked, 'LEAKED'],
    ['suspended key', 403, f.googleSuspended, 'CONSUMER_SUSPENDED'],
  ])('%s blocks', (_name, status, body, reason) => {
    expect(classifyGoogle(err(status, body), policy)).toEqual({ kind: 'block', reason })
  })

  test("the caller's own 400 passes through; overload is transient", () => {
    expect(classifyGoogle(err(400, f.googleBadRequest), policy)).toEqual({ kind: 'passthrough' })
    expect(classifyGoogle(err(503, f.googleOverloaded), policy)).toMatchObject({ kind: 'transient' })
  })
})

describe('OpenAI-style', () => {
  test('invalid key blocks with its code', () => {
    expect(classifyOpenAiStyle(err(401, f.openaiInvalidKey), policy)).toEqual({
      kind: 'block',
      reason: '401 invalid_api_key',
    })
  })

  test('insufficient_quota is a long cooldown for every model', () => {
    expect(classifyOpenAiStyle(err(429, f.openaiInsufficientQuota), policy)).toEqual({
      kind: 'cooldown',
      seconds: 21_600,
      allModels: true,
      reason: 'insufficient_quota',
      shared: true,
    })
  })

  test.each([
    [{ 'retry-after': '20' }, 21],
    [{ 'retry-after-ms': '2500' }, 4],
    [
      {
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '6m0s',
        'x-ratelimit-reset-tokens': '1s',
      },
      361,
    ],
    [
      {
        'x-ratelimit-remaining-tokens': '0',
        'x-ratelimit-reset-requests': '6m0s',
        'x-ratelimit-reset-tokens': '12ms',
      },
      2,
    ],
    [{ 'x-ratelimit-reset': String(Date.parse('2026-01-15T12:00:30Z')) }, 31],
    [{}, 60],
  ])('rate limit with %j cools for %i s', (headers, seconds) => {
    expect(classifyOpenAiStyle(err(429, f.openaiRateLimit, headers), policy)).toMatchObject({
      kind: 'cooldown',
      seconds,
      allModels: false,
    })
  })

  test('402 (out of credit on OpenRouter, DeepSeek) cools every model for long', () => {
    expect(
      classifyOpenAiStyle(err(402, '{"error":{"message":"Insufficient Balance"}}'), policy),
    ).toMatchObject({
      kind: 'cooldown',
      allModels: true,
      seconds: 21_600,
    })
  })

  test('404 and 400 pass through', () => {
    expect(classifyOpenAiStyle(err(404, '{"error":{"code":"model_not_found"}}'), policy)).toEqual({
      kind: 'passthrough',
    })
  })
})

describe('Anthropic', () => {
  test('429 honours retry-after', () => {
    expect(classifyAnthropic(err(429, f.anthropicRateLimit, { 'retry-after': '30' }), policy)).toMatchObject({
      kind: 'cooldown',
      seconds: 31,
    })
  })

  test('429 without retry-after uses the ratelimit reset time', () => {
    const h = { 'anthropic-ratelimit-tokens-reset': '2026-01-15T12:00:09Z' }
    expect(classifyAnthropic(err(429, f.anthropicRateLimit, h), policy)).toMatchObject({ seconds: 10 })
  })

  test('401 blocks, 529 is transient', () => {
    expect(classifyAnthropic(err(401, f.anthropicInvalidKey), policy)).toEqual({
      kind: 'block',
      reason: '401 authentication_error',
    })
    expect(classifyAnthropic(err(529, f.anthropicOverloaded), policy)).toMatchObject({ kind: 'transient' })
  })
})

// A verdict needs the key's own evidence (issue 23): the provider's code for a dead key or an empty
// account, never a status alone or text the request can get quoted back.
describe('evidence, not status', () => {
  test.each([
    ['a file the project cannot see', f.googleFileDenied('abc123')],
    ['a file whose name says "leaked"', f.googleFileDenied('Your-API-key-was-reported-as-leaked')],
    [
      'unregistered callers (no key reached Google)',
      f
        .googleFileDenied('x')
        .replace(
          /You do not[^"]*/,
          "Method doesn't allow unregistered callers (callers without established identity).",
        ),
    ],
  ])('Google 403 for %s passes through', (_name, body) => {
    expect(classifyGoogle(err(403, body), policy)).toEqual({ kind: 'passthrough' })
  })

  test('Google: a bare PERMISSION_DENIED is a suspect to prove, not a block', () => {
    expect(classifyGoogle(err(403, f.googleCachedContentDenied), policy)).toEqual({
      kind: 'suspect',
      reason: '403 PERMISSION_DENIED',
    })
  })

  test('Google: an ErrorInfo reason of a dead key blocks whatever the status; another reason is proved', () => {
    const info = (reason: string) =>
      JSON.stringify({
        error: {
          code: 403,
          message: 'x',
          status: 'PERMISSION_DENIED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason }],
        },
      })
    expect(classifyGoogle(err(400, info('API_KEY_EXPIRED')), policy)).toEqual({
      kind: 'block',
      reason: 'API_KEY_EXPIRED',
    })
    expect(classifyGoogle(err(403, info('SERVICE_DISABLED')), policy)).toEqual({
      kind: 'suspect',
      reason: '403 SERVICE_DISABLED',
    })
  })

  test.each([
    ['model_not_found', 403, f.openaiModelNotFound('gpt-x')],
    ['mismatched_organization', 401, f.openaiMismatchedOrganization],
  ])('OpenAI %s (%i) passes through', (_code, status, body) => {
    expect(classifyOpenAiStyle(err(status, body), policy)).toEqual({ kind: 'passthrough' })
  })

  test('OpenAI-style: account_deactivated blocks; a 401 without a code is proved first', () => {
    const deactivated =
      '{"error":{"message":"This key is associated with a deactivated account.","type":"invalid_request_error","param":null,"code":"account_deactivated"}}'
    expect(classifyOpenAiStyle(err(401, deactivated), policy)).toEqual({
      kind: 'block',
      reason: '401 account_deactivated',
    })
    expect(classifyOpenAiStyle(err(401, f.openrouterUserNotFound), policy)).toEqual({
      kind: 'suspect',
      reason: '401 401',
    })
    expect(classifyOpenAiStyle(err(403, 'Forbidden'), policy)).toEqual({ kind: 'suspect', reason: '403' })
  })

  test('a dead-key code in `type` counts as in `code` (where `code` holds the status)', () => {
    const body = '{"error":{"message":"Invalid API key provided.","type":"invalid_api_key","code":401}}'
    expect(classifyOpenAiStyle(err(401, body), policy)).toEqual({
      kind: 'block',
      reason: '401 invalid_api_key',
    })
  })

  test("OpenRouter's 402 asking for fewer max_tokens passes through; its empty account cools", () => {
    expect(classifyOpenAiStyle(err(402, f.openrouterCannotAfford(200001, 1234)), policy)).toEqual({
      kind: 'passthrough',
    })
    expect(classifyOpenAiStyle(err(402, f.openrouterNoCredits), policy)).toMatchObject({
      kind: 'cooldown',
      allModels: true,
      shared: true,
    })
  })

  test('a code that is not an identifier is not kept as a reason', () => {
    const body = JSON.stringify({ error: { message: 'x', code: 'sk-proj-1234 was refused' } })
    expect(classifyOpenAiStyle(err(401, body), policy)).toEqual({ kind: 'suspect', reason: '401 unknown' })
  })

  test('Anthropic: permission_error and a quoted beta value pass through; billing cools', () => {
    expect(classifyAnthropic(err(403, f.anthropicPermission), policy)).toEqual({ kind: 'passthrough' })
    expect(
      classifyAnthropic(err(400, f.anthropicUnknownBeta('your credit balance is too low')), policy),
    ).toEqual({ kind: 'passthrough' })
    expect(classifyAnthropic(err(400, f.anthropicLowCredit), policy)).toMatchObject({
      kind: 'cooldown',
      allModels: true,
      reason: 'insufficient_credit',
    })
    const billing = '{"type":"error","error":{"type":"billing_error","message":"Billing error"}}'
    expect(classifyAnthropic(err(402, billing), policy)).toMatchObject({ kind: 'cooldown', allModels: true })
  })

  test('Anthropic: a 403 of another type is proved first', () => {
    const other = '{"type":"error","error":{"type":"forbidden","message":"Request not allowed"}}'
    expect(classifyAnthropic(err(403, other), policy)).toEqual({ kind: 'suspect', reason: '403 forbidden' })
  })
})
