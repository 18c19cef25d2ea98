import type { AuthEntry } from '../auth/auth-key'
import { secretId } from '../auth/compare'
import { toHex } from '../auth/sha256'

const encoder = new TextEncoder()

/**
 * AI Gateway's default cache key includes the provider's auth header, so with a rotating pool the
 * same request almost never hits the cache. When a caller asks for caching (`cf-aig-cache-ttl`, or
 * its own `cf-aig-cache-key`), keyrelay sets the key itself: from the request (method, URL, body) or
 * the caller's key, and the caller's AUTH_KEY entry, so callers never read each other's answers and
 * the pool key plays no part. Hashed with Web Crypto: bodies can be megabytes.
 */
export async function setCacheKey(
  headers: Headers,
  entry: AuthEntry,
  request: { method: string; url: string; body: ArrayBuffer | null },
): Promise<void> {
  const ttl = headers.get('cf-aig-cache-ttl')
  const own = headers.get('cf-aig-cache-key')
  if ((ttl === null && own === null) || headers.get('cf-aig-skip-cache') === 'true') return
  const head = encoder.encode(
    own === null
      ? `keyrelay-cache-v1\0${secretId(entry.secret)}\0${request.method}\0${request.url}\0`
      : `keyrelay-cache-v1\0${secretId(entry.secret)}\0key\0${own}`,
  )
  const body = own === null && request.body ? new Uint8Array(request.body) : new Uint8Array(0)
  const data = new Uint8Array(head.length + body.length)
  data.set(head)
  data.set(body, head.length)
  headers.set('cf-aig-cache-key', toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', data))))
}
