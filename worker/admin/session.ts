import type { AuthEntry } from '../auth/auth-key'
import { isExpired } from '../auth/auth-key'
import { AppError } from '../http/errors'

/**
 * Dashboard sessions. The cookie carries no secret: `<expiry>.<nonce>.<HMAC>`, signed with a key
 * derived from the unrestricted AUTH_KEY entries, so changing AUTH_KEY ends every session.
 */
export const SESSION_COOKIE = 'kr_session'
const SESSION_SECONDS = 12 * 3600
const encoder = new TextEncoder()

const keys = new WeakMap<AuthEntry[], Promise<CryptoKey>>()

function signingKey(entries: AuthEntry[]): Promise<CryptoKey> {
  let key = keys.get(entries)
  if (!key) {
    const material = ['keyrelay-session-v1', ...entries.filter((e) => !e.rules).map((e) => e.secret)].join(
      '\0',
    )
    key = crypto.subtle
      .digest('SHA-256', encoder.encode(material))
      .then((raw) => crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']))
    keys.set(entries, key)
  }
  return key
}

const b64url = (bytes: ArrayBuffer | Uint8Array) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')

async function sign(entries: AuthEntry[], payload: string): Promise<string> {
  return b64url(await crypto.subtle.sign('HMAC', await signingKey(entries), encoder.encode(payload)))
}

export async function issueSession(
  entries: AuthEntry[],
  nowSeconds: number,
): Promise<{ token: string; expiresAt: number }> {
  const expiresAt = Math.floor(nowSeconds) + SESSION_SECONDS
  const payload = `${expiresAt}.${b64url(crypto.getRandomValues(new Uint8Array(12)))}`
  return { token: `${payload}.${await sign(entries, payload)}`, expiresAt }
}

/** The session's expiry if the token is genuine and current; undefined otherwise. */
export async function verifySession(
  entries: AuthEntry[],
  token: string,
  nowSeconds: number,
): Promise<number | undefined> {
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{1,128})$/.exec(token)
  if (!m) return undefined
  const [, expiry, nonce, signature] = m as unknown as [string, string, string, string]
  const expected = await sign(entries, `${expiry}.${nonce}`)
  const a = encoder.encode(expected)
  const b = encoder.encode(signature)
  if (a.byteLength !== b.byteLength || !crypto.subtle.timingSafeEqual(a, b)) return undefined
  const expiresAt = Number(expiry)
  // A session also needs an unrestricted entry that is still valid.
  const live = entries.some((e) => !e.rules && !isExpired(e, nowSeconds))
  return expiresAt > nowSeconds && live ? expiresAt : undefined
}

export function readCookie(headers: Headers, name: string): string | undefined {
  for (const part of (headers.get('cookie') ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === name) return v.join('=')
  }
  return undefined
}

export function sessionCookie(request: Request, token: string, maxAge: number): string {
  const { hostname } = new URL(request.url)
  // Secure everywhere but on this machine, where the dashboard is served over plain http.
  const local = hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]'
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${local ? '' : '; Secure'}`
}

/** Cookie-authenticated changes must come from the dashboard's own origin. */
export function requireSameOrigin(request: Request): void {
  if (request.method === 'GET' || request.method === 'HEAD') return
  const origin = request.headers.get('origin')
  if (origin !== new URL(request.url).origin) {
    throw new AppError(
      403,
      'bad_origin',
      'Changes through the dashboard session must come from the dashboard itself',
    )
  }
}

/**
 * Failed logins per client, in this isolate: from the fourth failure on, each try must wait twice
 * as long as the last (up to 5 minutes). An attacker spread over isolates is slowed in each.
 */
const failures = new Map<string, { count: number; until: number }>()
const FREE_TRIES = 3
const MAX_WAIT_SECONDS = 300

export function loginWait(client: string, nowSeconds: number): number {
  const f = failures.get(client)
  return f && f.until > nowSeconds ? Math.ceil(f.until - nowSeconds) : 0
}

export function recordLogin(client: string, ok: boolean, nowSeconds: number): void {
  if (ok) {
    failures.delete(client)
    return
  }
  if (failures.size > 10_000) failures.clear()
  const count = (failures.get(client)?.count ?? 0) + 1
  const wait = count <= FREE_TRIES ? 0 : Math.min(MAX_WAIT_SECONDS, 2 ** (count - FREE_TRIES))
  failures.set(client, { count, until: nowSeconds + wait })
}
