/** Usage counts, and the one way they add up (stats buffer, usage reads, dashboard series). */
export interface Counts {
  requests: number
  successes: number
  rateLimited: number
  errors: number
  /** Tokens the answers reported (stats/usage-read.ts): every input token, cached ones included. */
  inputTokens: number
  outputTokens: number
  /** The part of inputTokens served from the provider's prompt cache. */
  cachedTokens: number
}

export const zeroCounts = (): Counts => ({
  requests: 0,
  successes: 0,
  rateLimited: 0,
  errors: 0,
  inputTokens: 0,
  outputTokens: 0,
  cachedTokens: 0,
})

export function addCounts(into: Counts, from: Counts): Counts {
  into.requests += from.requests
  into.successes += from.successes
  into.rateLimited += from.rateLimited
  into.errors += from.errors
  into.inputTokens += from.inputTokens
  into.outputTokens += from.outputTokens
  into.cachedTokens += from.cachedTokens
  return into
}
