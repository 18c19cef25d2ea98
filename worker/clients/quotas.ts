/**
 * A client key's quotas and the periods they are counted in. Days and months are UTC: a quota is
 * the operator's promise to a client, and UTC is the one calendar both sides can read the same way.
 */
export interface Quotas {
  requestsPerMinute?: number
  requestsPerDay?: number
  /** Input and output tokens together (cached input included, as providers count it). */
  tokensPerDay?: number
  tokensPerMonth?: number
}

export type QuotaName = keyof Quotas

export const QUOTA_NAMES = [
  'requestsPerMinute',
  'requestsPerDay',
  'tokensPerDay',
  'tokensPerMonth',
] as const satisfies readonly QuotaName[]

/** The stable error code a caller sees when a quota is spent. */
export const QUOTA_CODES: Record<QuotaName, string> = {
  requestsPerMinute: 'quota_requests_per_minute',
  requestsPerDay: 'quota_requests_per_day',
  tokensPerDay: 'quota_tokens_per_day',
  tokensPerMonth: 'quota_tokens_per_month',
}

/** Requests and tokens counted in one period. */
export interface Totals {
  requests: number
  input: number
  output: number
  cached: number
}

export const zeroTotals = (): Totals => ({ requests: 0, input: 0, output: 0, cached: 0 })

export function addTotals(into: Totals, d: Totals): Totals {
  into.requests += d.requests
  into.input += d.input
  into.output += d.output
  into.cached += d.cached
  return into
}

/** What a token quota counts: every token the provider billed, in and out. */
export const tokensOf = (t: Totals): number => t.input + t.output

/** `d:2026-12-04`: the UTC day of `ms`. */
export const dayPeriod = (ms: number): string => `d:${new Date(ms).toISOString().slice(0, 10)}`

/** `m:2026-12`: the UTC month of `ms`. */
export const monthPeriod = (ms: number): string => `m:${new Date(ms).toISOString().slice(0, 7)}`

/** Unix ms at which the UTC day of `ms` ends. */
export function dayEnd(ms: number): number {
  const d = new Date(ms)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
}

/** Unix ms at which the UTC month of `ms` ends. */
export function monthEnd(ms: number): number {
  const d = new Date(ms)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
}
