import * as z from '../http/schema'
import { AppError } from '../http/errors'
import { parseJson } from '../providers/common'

const GatewayErrorBody = z.object({
  name: z.literal('AiGatewayError'),
  internalCode: z.optional(z.number()),
  message: z.optional(z.string()),
  error: z.optional(z.array(z.object({ code: z.optional(z.number()), message: z.optional(z.string()) }))),
})

export interface GatewayFailure {
  status: number
  internalCode: number | undefined
  message: string
}

/** An error produced by AI Gateway itself says nothing about the provider key. */
export function detectGatewayError(status: number, body: string): GatewayFailure | undefined {
  const parsed = GatewayErrorBody.safeParse(parseJson(body))
  if (!parsed.success) return undefined
  const g = parsed.data
  const message = (g.message ?? g.error?.[0]?.message ?? 'error').slice(0, 300)
  return { status, internalCode: g.internalCode ?? g.error?.[0]?.code, message }
}

export function gatewayAppError(failure: GatewayFailure, retryAfter: string | null): AppError {
  const code = failure.internalCode === undefined ? '' : ` ${failure.internalCode}`
  const text = `Cloudflare AI Gateway itself rejected the request (HTTP ${failure.status}, code${code}: ${failure.message}); no provider key was at fault`
  if (failure.status === 429) {
    return new AppError(429, 'gateway_rate_limited', text, retryAfter ? { 'retry-after': retryAfter } : {})
  }
  return new AppError(502, 'gateway_error', text)
}
