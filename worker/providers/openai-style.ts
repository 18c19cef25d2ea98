import {
  bearer,
  classifyCommon,
  cooldownVerdict,
  latestReset,
  spent,
  modelAfterModelsSegment,
  underResource,
  OpenAiErrorBody,
  outOfCredit,
  parseJson,
} from './common'
import { parseGoDuration, parseResetTime, parseRetryAfter, parseRetryAfterMs } from './rate-limit'
import type { CooldownPolicy, ProviderAdapter, UpstreamError, Verdict } from './types'

/** Codes OpenAI-style providers give for a key that is dead for good (Groq copies OpenAI's). */
const DEAD_KEY_CODES = new Set(['invalid_api_key', 'account_deactivated'])

/**
 * Codes of a 401/403 that the request caused while the key is healthy: a model the key's project
 * cannot use, an organisation or project header that is not the key's, a region the provider does
 * not serve. They pass through to the client and change nothing.
 */
const REQUEST_CODES = new Set([
  'model_not_found',
  'mismatched_organization',
  'mismatched_project',
  'unsupported_country_region_territory',
])

/**
 * OpenRouter's 402 when the balance cannot cover the `max_tokens` asked for: the caller can ask for
 * fewer, and the account is not empty. Matched to keep a key, never to punish one.
 */
const FEWER_TOKENS = /fewer max_tokens|can only afford/i

/**
 * OpenAI and the providers that copy its API (Groq, Mistral, DeepSeek, OpenRouter, xAI, Cerebras…):
 * Bearer auth, `{"error": {type, code}}` bodies and a family of rate-limit headers.
 */
export function classifyOpenAiStyle(error: UpstreamError, policy: CooldownPolicy): Verdict {
  const parsed = OpenAiErrorBody.safeParse(parseJson(error.body))
  const code = parsed.success ? String(parsed.data.error.code ?? parsed.data.error.type ?? '') : ''
  // OpenAI-style providers put their identifier in `code` or in `type` (some set `code` to the status).
  const named = [code, parsed.data?.error.type ?? '']
  const dead = named.find((c) => DEAD_KEY_CODES.has(c))
  if (dead) return { kind: 'block', reason: `${error.status} ${dead}` }
  if (named.some((c) => REQUEST_CODES.has(c))) return { kind: 'passthrough' }
  const common = classifyCommon(error, code || undefined)
  if (common) return common
  // Out of credit: OpenRouter and DeepSeek say it with 402, OpenAI with its `insufficient_quota` code.
  const credit =
    (error.status === 402 && !FEWER_TOKENS.test(parsed.data?.error.message ?? '')) ||
    code === 'insufficient_quota' ||
    parsed.data?.error.type === 'insufficient_quota'
  if (credit) return outOfCredit(policy, 'insufficient_quota')
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

/** Account-held objects in OpenAI's API, which Groq, Mistral and xAI copy in part. */
const STORED = new Set([
  'files',
  'uploads',
  'batches',
  'batch',
  'vector_stores',
  'assistants',
  'threads',
  'conversations',
  'containers',
  'fine_tuning',
  'evals',
  'agents',
  'libraries',
])

/**
 * Besides those resources, OpenAI keeps chat completions and responses: listing them, or any call on
 * one by id (`chat/completions/{id}`, `responses/{id}/input_items`), reaches what another client
 * stored. Creating one (`POST chat/completions`, `POST responses`) runs a model.
 */
export function openAiStoredObjects(rest: string[], method: string): boolean {
  if (underResource(rest, STORED)) return true
  const [first, second, ...more] = rest[0] === 'v1' ? rest.slice(1) : rest
  if (first === 'chat' && second === 'completions') return method !== 'POST' || more.length > 0
  // `responses/input_tokens` counts a request's tokens; every other path below responses/ is one.
  return first === 'responses' && second !== undefined && second !== 'input_tokens'
}

export function openAiStyle(overrides: Partial<ProviderAdapter> = {}): ProviderAdapter {
  return {
    authHeader: 'authorization',
    formatAuth: bearer,
    // Choose another organisation or project than the key's own (OpenAI's SDKs send them from
    // OPENAI_ORG_ID / OPENAI_PROJECT_ID).
    accountHeaders: ['openai-organization', 'openai-project'],
    storedObjects: openAiStoredObjects,
    modelFromPath: modelAfterModelsSegment,
    classify: classifyOpenAiStyle,
    exhaustedFor: openAiExhausted,
    streamError: openAiStreamError,
    ...overrides,
  }
}
