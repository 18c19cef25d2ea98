/**
 * The request-duration histogram's buckets (ms): each bound counts the requests that took longer
 * than the one before it and at most this long; one more slot counts the rest. Fixed, because the
 * counts are summed across isolates and kept for ever (db/metrics.repo.ts): every isolate and every
 * stored row must mean the same buckets.
 */
export const DURATION_BOUNDS_MS = [50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000] as const

/** The slot of a duration: 0 for ≤ 50 ms … DURATION_BOUNDS_MS.length for over a minute. */
export function durationSlot(ms: number): number {
  let i = 0
  while (i < DURATION_BOUNDS_MS.length && ms > (DURATION_BOUNDS_MS[i] as number)) i++
  return i
}

/** The stored column of each slot, in order. */
export const DURATION_COLUMNS: readonly string[] = [...DURATION_BOUNDS_MS.map((b) => `ms_le_${b}`), 'ms_over']
