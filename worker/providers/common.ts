import * as z from '../http/schema'
import type { UpstreamError, Verdict } from './types'

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

/** The statuses every provider shares: bad credentials block, server trouble is transient. */
export function classifyCommon(error: UpstreamError, code: string | undefined): Verdict | undefined {
  const { status } = error
  if (status === 401 || status === 403)
    return { kind: 'block', reason: code ? `${status} ${code}` : `${status}` }
  if (status >= 500) return { kind: 'transient', reason: `${status}` }
  return undefined
}

/** Minutes-based fallback when a provider gives no hint. */
export function cooldownVerdict(seconds: number | undefined, fallback: number, reason: string): Verdict {
  const s = seconds === undefined ? fallback : Math.ceil(seconds) + RESET_MARGIN_SECONDS
  return { kind: 'cooldown', seconds: Math.max(1, s), allModels: false, reason }
}
