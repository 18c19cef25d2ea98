import { AppError } from '../http/errors'

/**
 * Failed authentication, in this isolate's memory (no D1 on the request path), at two levels.
 *
 * Per client address: the first FREE_FAILURES are free; after that every attempt from that address,
 * right or wrong, waits twice as long as the last (up to five minutes), so a guesser gains nothing by
 * trying a right key in between. Checking a credential is synchronous (compare.ts), so the check and
 * the count of a failure happen in one step: parallel guesses cannot slip past each other.
 *
 * Across addresses: a guesser with many addresses gets a few free tries from each. Past
 * GLOBAL_FAILURES failures in a minute, an address that has not authenticated recently waits for the
 * minute to end; addresses that did (the clients and dashboards in use) are not held up, so the
 * ceiling cannot be used to lock everyone out.
 *
 * The address is `cf-connecting-ip`, which Cloudflare's edge sets on every request and a client
 * cannot forge there. Without it (a local `wrangler dev`), every caller shares one bucket.
 */
const FREE_FAILURES = 3
const MAX_WAIT_SECONDS = 300
/** Failures are forgotten this long after the last one. */
const FORGET_SECONDS = 15 * 60
/** Addresses remembered at most (failing, and trusted); past it the least recently seen go first. */
const MAX_CLIENTS = 10_000
/** Failed attempts per minute in one isolate, from all addresses together, before new ones wait. */
export const GLOBAL_FAILURES = 120
/** An address that authenticated within this long is not held up by the ceiling. */
const TRUST_SECONDS = 24 * 3600

interface Failures {
  failures: number
  until: number
  last: number
}

const clients = new Map<string, Failures>()
/** address → when it last authenticated. */
const trusted = new Map<string, number>()
/** Failures counted in the current clock minute, and in the one before it. */
const minute = { start: 0, failures: 0, previous: 0 }

export function clientAddress(headers: Headers): string {
  return headers.get('cf-connecting-ip') ?? 'unknown'
}

const throttled = (message: string, waitSeconds: number) =>
  new AppError(429, 'auth_throttled', message, { 'retry-after': String(Math.max(1, Math.ceil(waitSeconds))) })

/** Throws 429 `auth_throttled` while `client` must wait. */
export function checkThrottle(client: string, nowSeconds: number): void {
  const r = clients.get(client)
  if (r && nowSeconds - r.last > FORGET_SECONDS) clients.delete(client)
  else if (r && r.until > nowSeconds) {
    const wait = Math.ceil(r.until - nowSeconds)
    throw throttled(`Too many failed attempts to authenticate; try again in ${wait} s`, wait)
  }
  if (failuresThisMinute(nowSeconds) >= GLOBAL_FAILURES && !isTrusted(client, nowSeconds)) {
    const wait = minute.start + 60 - nowSeconds
    throw throttled(
      `Too many failed attempts to authenticate from many addresses in the last minute; addresses that have not authenticated recently may try again in ${Math.ceil(wait)} s`,
      wait,
    )
  }
}

export function recordFailure(client: string, nowSeconds: number): void {
  failuresThisMinute(nowSeconds)
  minute.failures++
  const failures = (clients.get(client)?.failures ?? 0) + 1
  const wait = failures <= FREE_FAILURES ? 0 : Math.min(MAX_WAIT_SECONDS, 2 ** (failures - FREE_FAILURES))
  clients.delete(client)
  if (clients.size >= MAX_CLIENTS) forgetSoonest(nowSeconds)
  clients.set(client, { failures, until: nowSeconds + wait, last: nowSeconds })
}

/**
 * Under a flood of addresses: the ones not waiting out a penalty are forgotten first, then the tenth
 * whose penalty ends soonest. Never the whole table: the longest penalties stay.
 */
function forgetSoonest(nowSeconds: number): void {
  for (const [address, r] of clients) if (r.until <= nowSeconds) clients.delete(address)
  if (clients.size < MAX_CLIENTS) return
  const soonest = [...clients].sort((a, b) => a[1].until - b[1].until).slice(0, MAX_CLIENTS / 10)
  for (const [address] of soonest) clients.delete(address)
}

/** A right credential: the address is trusted past the ceiling, and its failures are forgiven. */
export function recordSuccess(client: string, nowSeconds: number): void {
  if (clients.size > 0) clients.delete(client)
  // Refreshed once a minute at most: this runs on every authenticated request.
  if (nowSeconds - (trusted.get(client) ?? -Infinity) >= 60) remember(trusted, client, nowSeconds)
}

/**
 * Failures over the last 60 s, estimated from two clock minutes (the previous one weighed by how much
 * of it is still within 60 s), so that a burst across a minute's turn is not forgotten at the turn.
 */
function failuresThisMinute(nowSeconds: number): number {
  const start = nowSeconds - (nowSeconds % 60)
  if (minute.start !== start) {
    const previous = start - minute.start === 60 ? minute.failures : 0
    Object.assign(minute, { start, failures: 0, previous })
  }
  return minute.failures + minute.previous * (1 - (nowSeconds - start) / 60)
}

function isTrusted(client: string, nowSeconds: number): boolean {
  const at = trusted.get(client)
  return at !== undefined && nowSeconds - at < TRUST_SECONDS
}

/**
 * Trusts `key` as the most recent entry (a Map keeps insertion order). Full, it forgets the least
 * recently seen tenth: never the whole table at once.
 */
function remember(map: Map<string, number>, key: string, value: number): void {
  map.delete(key)
  if (map.size >= MAX_CLIENTS) {
    let drop = MAX_CLIENTS / 10
    for (const old of map.keys()) {
      if (drop-- <= 0) break
      map.delete(old)
    }
  }
  map.set(key, value)
}
