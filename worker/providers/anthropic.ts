import * as z from '../http/schema'
import {
  classifyCommon,
  cooldownVerdict,
  latestReset,
  modelAfterModelsSegment,
  outOfCredit,
  parseJson,
  spent,
} from './common'
import { parseResetTime, parseRetryAfter } from './rate-limit'
import type { CooldownPolicy, ProviderAdapter, UpstreamError, Verdict } from './types'

const AnthropicError = z.object({
  type: z.literal('error'),
  error: z.object({ type: z.string(), message: z.optional(z.string()) }),
})

/**
 * How Anthropic begins the message of a 400 for an empty prepaid balance. Its 400 messages can quote
 * the request (unknown `anthropic-beta` values come back inside one), so only the start counts.
 */
const LOW_CREDIT = 'Your credit balance is too low'

export function classifyAnthropic(error: UpstreamError, policy: CooldownPolicy): Verdict {
  const parsed = AnthropicError.safeParse(parseJson(error.body))
  const type = parsed.success ? parsed.data.error.type : undefined
  const message = parsed.data?.error.message ?? ''
  // The one type Anthropic gives a dead key (`invalid x-api-key`, a disabled or deleted key).
  if (error.status === 401 && type === 'authentication_error')
    return { kind: 'block', reason: '401 authentication_error' }
  // A resource (a model, a file, a workspace feature) this key may not use: the request's doing.
  if (error.status === 403 && type === 'permission_error') return { kind: 'passthrough' }
  const common = classifyCommon(error, type) // 529 overloaded_error is ≥ 500: transient
  if (common) return common
  // An empty balance.
  const billing = type === 'billing_error' || (error.status === 400 && message.startsWith(LOW_CREDIT))
  if (billing) return outOfCredit(policy, 'insufficient_credit')
  if (error.status !== 429) return { kind: 'passthrough' }
  const h = error.headers
  const hint =
    parseRetryAfter(h.get('retry-after'), policy.now) ??
    maxDefined(
      parseResetTime(h.get('anthropic-ratelimit-requests-reset'), policy.now),
      parseResetTime(h.get('anthropic-ratelimit-tokens-reset'), policy.now),
    )
  return cooldownVerdict(hint, policy.defaultSeconds, 'rate_limited')
}

/**
 * Anthropic's `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{remaining,limit,reset}`
 * on a successful answer (resets are RFC 3339 times): a spent budget rests the key until its reset.
 */
export function anthropicExhausted(h: Headers, now: number): number | undefined {
  return latestReset(
    ['requests', 'tokens', 'input-tokens', 'output-tokens'].map((budget) => {
      const name = (part: string) => h.get(`anthropic-ratelimit-${budget}-${part}`)
      return spent(name('remaining'), name('limit')) ? (parseResetTime(name('reset'), now) ?? 1) : undefined
    }),
  )
}

function maxDefined(...values: (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined)
  return defined.length > 0 ? Math.max(...defined) : undefined
}

/** Account-held objects in Anthropic's API: uploaded files, message batches, skills. */
export function anthropicStoredObjects(rest: string[]): boolean {
  const [version, first, second] = rest
  return (
    version === 'v1' &&
    (first === 'files' || first === 'skills' || (first === 'messages' && second === 'batches'))
  )
}

export const anthropic: ProviderAdapter = {
  authHeader: 'x-api-key',
  formatAuth: (key) => key,
  modelFromPath: modelAfterModelsSegment,
  modelsPath: 'v1/models',
  messagesPath: 'v1/messages',
  keyShape: { pattern: /^sk-ant-[A-Za-z0-9_-]{20,}$/, looksLike: 'sk-ant-…' },
  storedObjects: anthropicStoredObjects,
  modelsHeaders: { 'anthropic-version': '2023-06-01' },
  classify: classifyAnthropic,
  exhaustedFor: anthropicExhausted,
  streamEnd: /event: message_stop/,
  // The same event Anthropic sends when a stream fails on its side.
  streamError: (message) =>
    `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'api_error', message } })}\n\n`,
}
