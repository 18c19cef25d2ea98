import {
  bearer,
  classifyCommon,
  cooldownVerdict,
  latestReset,
  spent,
  modelAfterModelsSegment,
  OpenAiErrorBody,
  parseJson,
} from './common'
import { parseGoDuration, parseResetTime, parseRetryAfter, parseRetryAfterMs } from './rate-limit'
import type { CooldownPolicy, ProviderAdapter, UpstreamError, Verdict } from './types'

/**
 * OpenAI and the providers that copy its API (Groq, Mistral, DeepSeek, OpenRouter, xAI, Cerebras…):
 * Bearer auth, `{"error": {type, code}}` bodies and a family of rate-limit headers.
 */
export function classifyOpenAiStyle(error: UpstreamError, policy: CooldownPolicy): Verdict {
  const parsed = OpenAiErrorBody.safeParse(parseJson(error.body))
  const code = parsed.success ? String(parsed.data.error.code ?? parsed.data.error.type ?? '') : ''
  const common = classifyCommon(error, code || undefined)
  if (common) return common
  // Out of credit: account-wide and not fixed by waiting a minute (402 is OpenRouter's and DeepSeek's way).
  if (
    error.status === 402 ||
    code === 'insufficient_quota' ||
    parsed.data?.error.type === 'insufficient_quota'
  ) {
    return {
      kind: 'cooldown',
      seconds: policy.creditSeconds,
      allModels: true,
      reason: 'insufficient_quota',
      shared: true,
    }
  }
  if (error.status === 429) {
    return cooldownVerdict(
      openAiRetrySeconds(error.headers, policy.now),
      policy.defaultSeconds,
      'rate_limited',
    )
  }
  return { kind: 'passthrough' }
}

/** The most specific hint wins: explicit retry-after first, then the reset of whichever limit ran out. */
export function openAiRetrySeconds(h: Headers, now: number): number | undefined {
  const explicit = parseRetryAfterMs(h.get('retry-after-ms')) ?? parseRetryAfter(h.get('retry-after'), now)
  if (explicit !== undefined) return explicit
  const requests = parseGoDuration(h.get('x-ratelimit-reset-requests'))
  const tokens = parseGoDuration(h.get('x-ratelimit-reset-tokens'))
  const exhausted = [
    h.get('x-ratelimit-remaining-requests') === '0' ? requests : undefined,
    h.get('x-ratelimit-remaining-tokens') === '0' ? tokens : undefined,
  ].filter((v): v is number => v !== undefined)
  const candidates = exhausted.length > 0 ? exhausted : [requests, tokens].filter((v) => v !== undefined)
  if (candidates.length > 0) return Math.max(...(candidates as number[]))
  // OpenRouter: X-RateLimit-Reset in epoch milliseconds.
  return parseResetTime(h.get('x-ratelimit-reset'), now)
}

/**
 * OpenAI's (and Groq's) `x-ratelimit-remaining-{requests,tokens}` on a successful answer: when one
 * is spent, its `x-ratelimit-reset-*` duration is how long the key must rest.
 */
export function openAiExhausted(h: Headers, _now: number): number | undefined {
  return latestReset([
    spent(h.get('x-ratelimit-remaining-requests'), h.get('x-ratelimit-limit-requests'))
      ? (parseGoDuration(h.get('x-ratelimit-reset-requests')) ?? 1)
      : undefined,
    spent(h.get('x-ratelimit-remaining-tokens'), h.get('x-ratelimit-limit-tokens'))
      ? (parseGoDuration(h.get('x-ratelimit-reset-tokens')) ?? 1)
      : undefined,
  ])
}

/** OpenAI's SDKs raise an APIError for a stream chunk that carries `error`. */
export const openAiStreamError = (message: string) =>
  `data: ${JSON.stringify({ error: { message, type: 'server_error', code: 'stream_interrupted' } })}\n\n`

export function openAiStyle(overrides: Partial<ProviderAdapter> = {}): ProviderAdapter {
  return {
    authHeader: 'authorization',
    formatAuth: bearer,
    modelFromPath: modelAfterModelsSegment,
    classify: classifyOpenAiStyle,
    exhaustedFor: openAiExhausted,
    streamError: openAiStreamError,
    ...overrides,
  }
}
