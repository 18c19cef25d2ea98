import * as z from '../http/schema'
import type { CooldownPolicy, UpstreamError, Verdict } from './types'

/** Providers' reset hints are rounded down; a second more avoids a 429 on the first retry. */
export const RESET_MARGIN_SECONDS = 1

export const bearer = (key: string): string => `Bearer ${key}`

/** Default: `…/models/<model>[:method]` as Google, OpenAI's model routes and Replicate use it. */
export function modelAfterModelsSegment(rest: string[]): string | undefined {
  const i = rest.indexOf('models')
  const next = i >= 0 ? rest[i + 1] : undefined
  const model = next?.split(':')[0]
  return model ? decodeURIComponent(model) : undefined
}

/** Path segments joined back into a model name that itself contains slashes (`org/model`). */
export const joinSegments = (segments: string[]): string =>
  segments.map((s) => decodeURIComponent(s)).join('/')

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** `{"error": {"message", "type", "code"}}`, used by OpenAI and most OpenAI-style providers. */
export const OpenAiErrorBody = z.object({
  error: z.object({
    type: z.nullish(z.string()),
    code: z.nullish(z.union([z.string(), z.number()])),
    message: z.nullish(z.string()),
  }),
})

/**
 * What every provider shares, once its adapter has matched the codes it knows: a 401/403 left over
 * names no cause, so it makes the key a suspect to be proved, never a block; server trouble is
 * transient. `code` is the provider's own code, kept in the reason for the dashboard.
 */
export function classifyCommon(error: UpstreamError, code: string | undefined): Verdict | undefined {
  const { status } = error
  if (status === 401 || status === 403)
    return { kind: 'suspect', reason: code ? `${status} ${safeCode(code)}` : `${status}` }
  if (status >= 500) return { kind: 'transient', reason: `${status}` }
  return undefined
}

/**
 * A provider's code as a reason: codes are identifiers (`invalid_api_key`, `PERMISSION_DENIED`); any
 * other text in a code field is not kept, since it may quote the request or the key.
 */
export function safeCode(code: string): string {
  return /^[A-Za-z0-9_.-]{1,64}$/.test(code) ? code : 'unknown'
}

/**
 * A budget is spent when nothing is left, or under 1% of its limit (a token budget that small cannot
 * carry a real request): then its reset is when the key is usable again.
 */
export function spent(remaining: string | null, limit: string | null): boolean {
  if (remaining === null || remaining.trim() === '') return false
  const left = Number(remaining)
  if (!Number.isFinite(left)) return false
  const cap = Number(limit)
  return left <= 0 || (Number.isFinite(cap) && cap > 0 && left < cap * 0.01)
}

/** The latest of several resets (every spent budget must be back), plus the margin; undefined if none. */
export function latestReset(resets: (number | undefined)[]): number | undefined {
  const known = resets.filter((r): r is number => r !== undefined)
  return known.length > 0 ? Math.ceil(Math.max(...known)) + RESET_MARGIN_SECONDS : undefined
}

/**
 * An account out of credit: waiting a minute does not refill it, every model is refused, and every
 * key of the account (its group) with it.
 */
export const outOfCredit = (policy: CooldownPolicy, reason: string): Verdict => ({
  kind: 'cooldown',
  seconds: policy.creditSeconds,
  allModels: true,
  reason,
  shared: true,
})

/** Minutes-based fallback when a provider gives no hint. */
export function cooldownVerdict(seconds: number | undefined, fallback: number, reason: string): Verdict {
  const s = seconds === undefined ? fallback : Math.ceil(seconds) + RESET_MARGIN_SECONDS
  return { kind: 'cooldown', seconds: Math.max(1, s), allModels: false, reason }
}

/**
 * A call on one of `resources` (the path's first segment after an optional version segment such as
 * `v1`): what providers' stored-object APIs look like (`files`, `v1/batches/…`).
 */
export function underResource(rest: string[], resources: ReadonlySet<string>): boolean {
  const first = /^v\d+(beta|alpha)?$/.test(rest[0] ?? '') ? rest[1] : rest[0]
  return first !== undefined && resources.has(first)
}
