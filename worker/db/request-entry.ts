import { DURATION_BOUNDS_MS, durationSlot } from './durations'

/** One client request as dispatch saw it end: the status keyrelay answered and how long it took. */
export interface RequestEvent {
  provider: string
  model: string
  status: number
  ms: number
}

/**
 * A provider and model's requests in one hour, as a stats flush stores them (usage_batches.requests):
 * [provider, model, ok, clientErrors, limited, failed, blocks, msSum, ...one count per duration slot].
 * ok is 1xx–3xx, clientErrors 4xx but 429, limited 429, failed 5xx (keyrelay's own included).
 */
export type RequestEntry = [string, string, number, number, number, number, number, number, ...number[]]

/** Where each count sits in a RequestEntry (db/metrics.repo.ts reads them by these). */
export const REQUEST_FIELDS = {
  ok: 2,
  clientErrors: 3,
  limited: 4,
  failed: 5,
  blocks: 6,
  msSum: 7,
  firstSlot: 8,
} as const

const SLOTS = DURATION_BOUNDS_MS.length + 1

export function emptyEntry(provider: string, model: string): RequestEntry {
  return [provider, model, 0, 0, 0, 0, 0, 0, ...new Array<number>(SLOTS).fill(0)]
}

export function countRequest(into: RequestEntry, e: RequestEvent): void {
  const field =
    e.status === 429
      ? REQUEST_FIELDS.limited
      : e.status >= 500
        ? REQUEST_FIELDS.failed
        : e.status >= 400
          ? REQUEST_FIELDS.clientErrors
          : REQUEST_FIELDS.ok
  into[field] = (into[field] as number) + 1
  const ms = Math.max(0, Math.round(e.ms))
  into[REQUEST_FIELDS.msSum] += ms
  const slot = REQUEST_FIELDS.firstSlot + durationSlot(ms)
  into[slot] = (into[slot] as number) + 1
}

/** Adds every count of `from` to `into` (same provider and model). */
export function addEntry(into: RequestEntry, from: RequestEntry): void {
  for (let i = REQUEST_FIELDS.ok; i < into.length; i++) into[i] = (into[i] as number) + (from[i] as number)
}
