/**
 * Pure parsers for the many ways providers say "come back later". All return seconds, or undefined
 * when there is no usable hint.
 */

/**
 * The longest wait a hint may ask for: no provider's limit resets later than a day (Google's daily
 * quota is computed, not read). A longer or non-finite one (`retry-after: 99999999999`, a 400-digit
 * number) is absurd, and treated as no hint at all: the default cooldown applies.
 */
export const MAX_HINT_SECONDS = 48 * 3600

function bounded(seconds: number): number | undefined {
  return Number.isFinite(seconds) && seconds >= 0 && seconds <= MAX_HINT_SECONDS ? seconds : undefined
}

/** `retry-after`: delta seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return bounded(Number(trimmed))
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? undefined : bounded(Math.max(0, (at - now) / 1000))
}

export function parseRetryAfterMs(value: string | null): number | undefined {
  if (!value || !/^\d+(\.\d+)?$/.test(value.trim())) return undefined
  return bounded(Number(value.trim()) / 1000)
}

const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 }

/** OpenAI's `x-ratelimit-reset-*` durations: `12ms`, `20s`, `6m0s`, `1h2m3.5s`. */
export function parseGoDuration(value: string | null): number | undefined {
  if (!value) return undefined
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return bounded(Number(trimmed))
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy
  let total = 0
  let consumed = 0
  for (let m = re.exec(trimmed); m; m = re.exec(trimmed)) {
    total += Number(m[1]) * (UNIT_SECONDS[m[2] as string] ?? 0)
    consumed = re.lastIndex
  }
  return consumed === trimmed.length && consumed > 0 ? bounded(total) : undefined
}

/** A reset given as an absolute time: epoch seconds, epoch milliseconds or RFC 3339. */
export function parseResetTime(value: string | null, now: number): number | undefined {
  if (!value) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) {
    const n = Number(trimmed)
    const ms = n > 1e12 ? n : n * 1000
    return bounded(Math.max(0, (ms - now) / 1000))
  }
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? undefined : bounded(Math.max(0, (at - now) / 1000))
}

/** Google's protobuf Duration string: `59s`, `0.5s`. */
export function parseProtoDuration(value: string | undefined): number | undefined {
  const m = value ? /^(\d+(?:\.\d+)?)s$/.exec(value.trim()) : null
  return m ? bounded(Number(m[1])) : undefined
}

/** Seconds from `now` (unix ms) to the next midnight in America/Los_Angeles, DST included. */
export function secondsUntilPacificMidnight(now: number): number {
  const wall = pacificWallClock(now)
  // Wall-clock midnight of the next Pacific day, expressed as if it were UTC…
  const nextMidnightWall = Date.UTC(wall.year, wall.month - 1, wall.day + 1)
  // …shifted by the offset in force at that midnight (it differs from now's across a DST change).
  let guess = nextMidnightWall - wall.offsetMs
  const offsetThen = pacificWallClock(guess).offsetMs
  guess = nextMidnightWall - offsetThen
  return Math.max(1, Math.ceil((guess - now) / 1000))
}

/** Unix ms of the last midnight in America/Los_Angeles (where Google's daily quotas restart). */
export function pacificDayStart(now: number): number {
  const end = now + secondsUntilPacificMidnight(now) * 1000
  return end - dayLengthBefore(end)
}

/** The length of the Pacific day that ends at midnight `end` (23 or 25 hours across a DST change). */
function dayLengthBefore(end: number): number {
  const wall = pacificWallClock(end - 12 * 3_600_000)
  const midnightWall = Date.UTC(wall.year, wall.month - 1, wall.day)
  const offsetThen = pacificWallClock(midnightWall - wall.offsetMs).offsetMs
  return end - (midnightWall - offsetThen)
}

const pacific = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/Los_Angeles',
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
})

function pacificWallClock(at: number): { year: number; month: number; day: number; offsetMs: number } {
  const parts: Record<string, number> = {}
  for (const p of pacific.formatToParts(new Date(at))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value)
  }
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts
  const wallAsUtc = Date.UTC(year, month - 1, day, hour, minute, second)
  const flooredAt = at - (at % 1000)
  return { year, month, day, offsetMs: wallAsUtc - flooredAt }
}
