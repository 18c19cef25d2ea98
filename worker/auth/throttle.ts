import { AppError } from '../http/errors'

/**
 * Failed authentication, in this isolate's memory (no D1 on the request path), at two levels.
 *
 * Per client address: the first FREE_FAILURES are free; after that every attempt from that address,
 * right or wrong, waits twice as long as the last (up to five minutes), so a guesser gains nothing by
 * trying a right key in between. Checking a credential is synchronous (compare.ts), so the check and
 * the count of a failure happen in one step: parallel guesses cannot slip past each other.
 *
 * Only a new wrong credential counts: the same one sent again (a client with a mistyped key that
 * retries, a client key used on an isolate that has not seen it yet) is answered 401 as before but
 * teaches nothing a guesser could use, so it does not make the address wait. Behind one NAT, a
 * teammate's misconfigured client no longer locks out everyone else's right key.
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

/** Wrong credentials remembered per address, to know one sent again (a 32-bit hash of each). */
const RECENT_WRONG = 8

interface Failures {
  failures: number
  until: number
  last: number
  /** Hashes of the address's latest distinct wrong credentials, newest last. */
  wrong: number[]
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

/** A wrong `credential` from `client`: counted unless the address sent it before (see above). */
export function recordFailure(client: string, nowSeconds: number, credential: string): void {
  const held = clients.get(client)
  const hash = fnv1a(credential)
  if (held?.wrong.includes(hash)) {
    held.last = nowSeconds
    return
  }
  failuresThisMinute(nowSeconds)
  minute.failures++
  const failures = (held?.failures ?? 0) + 1
  const wait = failures <= FREE_FAILURES ? 0 : Math.min(MAX_WAIT_SECONDS, 2 ** (failures - FREE_FAILURES))
  const wrong = [...(held?.wrong ?? []), hash].slice(-RECENT_WRONG)
  clients.delete(client)
  if (clients.size >= MAX_CLIENTS) forgetSoonest(nowSeconds)
  clients.set(client, { failures, until: nowSeconds + wait, last: nowSeconds, wrong })
}

/**
 * FNV-1a, 32 bits: enough to tell a credential sent again from a new one (two guesses sharing a hash
 * would give a guesser one try for free, one chance in four billion), and it keeps no wrong
 * credential, which may be somebody's real key for another service, in memory.
 */
function fnv1a(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
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
