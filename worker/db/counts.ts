/** Usage counts, and the one way they add up (stats buffer, usage reads, dashboard series). */
export interface Counts {
  requests: number
  successes: number
  rateLimited: number
  errors: number
}

export const zeroCounts = (): Counts => ({ requests: 0, successes: 0, rateLimited: 0, errors: 0 })

export function addCounts(into: Counts, from: Counts): Counts {
  into.requests += from.requests
  into.successes += from.successes
  into.rateLimited += from.rateLimited
  into.errors += from.errors
  return into
}
