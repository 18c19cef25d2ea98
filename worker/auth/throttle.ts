import { AppError } from '../http/errors'

/**
 * Failed authentication per client address, in this isolate's memory (no D1 on the request path).
 * The first FREE_FAILURES are free; after that every attempt from that address, right or wrong,
 * waits twice as long as the last (up to five minutes), so a guesser gains nothing by trying a
 * right key in between. Checking a credential is synchronous (compare.ts), so the check and the
 * count of a failure happen in one step: parallel guesses cannot slip past each other.
 *
 * The address is `cf-connecting-ip`, which Cloudflare's edge sets on every request and a client
 * cannot forge there. Without it (a local `wrangler dev`), every caller shares one bucket.
 */
const FREE_FAILURES = 3
const MAX_WAIT_SECONDS = 300
/** Failures are forgotten this long after the last one. */
const FORGET_SECONDS = 15 * 60
const MAX_CLIENTS = 10_000

interface Record_ {
  failures: number
  until: number
  last: number
}

const clients = new Map<string, Record_>()

export function clientAddress(headers: Headers): string {
  return headers.get('cf-connecting-ip') ?? 'unknown'
}

/** Throws 429 `auth_throttled` while `client` must wait. */
export function checkThrottle(client: string, nowSeconds: number): void {
  const r = clients.get(client)
  if (!r) return
  if (nowSeconds - r.last > FORGET_SECONDS) {
    clients.delete(client)
    return
  }
  if (r.until > nowSeconds) {
    const wait = String(Math.ceil(r.until - nowSeconds))
    throw new AppError(
      429,
      'auth_throttled',
      `Too many failed attempts to authenticate; try again in ${wait} s`,
      {
        'retry-after': wait,
      },
    )
  }
}

export function recordFailure(client: string, nowSeconds: number): void {
  if (clients.size >= MAX_CLIENTS) prune(nowSeconds)
  const failures = (clients.get(client)?.failures ?? 0) + 1
  const wait = failures <= FREE_FAILURES ? 0 : Math.min(MAX_WAIT_SECONDS, 2 ** (failures - FREE_FAILURES))
  clients.set(client, { failures, until: nowSeconds + wait, last: nowSeconds })
}

/** Under a flood of addresses, forget the ones that no longer wait; failing that, everyone. */
function prune(nowSeconds: number): void {
  for (const [client, r] of clients) if (r.until <= nowSeconds) clients.delete(client)
  if (clients.size >= MAX_CLIENTS) clients.clear()
}
