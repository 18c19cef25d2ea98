import { secretId } from '../auth/compare'
import type { AuthEntry } from '../auth/auth-key'
import { isExpired } from '../auth/auth-key'
import { createSession, sessionOpen } from '../db/sessions.repo'
import { AppError } from '../http/errors'

/**
 * Dashboard sessions. The cookie carries no secret: `<session id>.<expiry>.<HMAC>`, signed with a key
 * derived from the AUTH_KEY entry that logged in. A cookie is honoured while (1) its signature
 * matches an unrestricted, unexpired entry, so changing or removing that entry ends it, and (2) its
 * row exists in D1, so logging out ends it everywhere at once (sessions.repo.ts).
 */
export const SESSION_COOKIE = 'kr_session'
const SESSION_SECONDS = 12 * 3600
const encoder = new TextEncoder()

const keys = new Map<string, Promise<CryptoKey>>()

function signingKey(entry: AuthEntry): Promise<CryptoKey> {
  let key = keys.get(entry.secret)
  if (!key) {
    key = crypto.subtle
      .digest('SHA-256', encoder.encode(`keyrelay-session-v2\0${entry.secret}`))
      .then((raw) => crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']))
    keys.set(entry.secret, key)
  }
  return key
}

const b64url = (bytes: ArrayBuffer | Uint8Array) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')

async function sign(entry: AuthEntry, payload: string): Promise<string> {
  return b64url(await crypto.subtle.sign('HMAC', await signingKey(entry), encoder.encode(payload)))
}

/** Opens a session for `entry` (an unrestricted entry that just authenticated). */
export async function issueSession(
  d1: D1Database,
  entry: AuthEntry,
  nowSeconds: number,
): Promise<{ token: string; expiresAt: number }> {
  const now = Math.floor(nowSeconds)
  const expiresAt = now + SESSION_SECONDS
  const id = b64url(crypto.getRandomValues(new Uint8Array(16)))
  await createSession(d1, { id, entry: secretId(entry.secret), createdAt: now, expiresAt })
  const payload = `${id}.${expiresAt}`
  return { token: `${payload}.${await sign(entry, payload)}`, expiresAt }
}

export interface Session {
  id: string
  expiresAt: number
}

/** The session a token proves, if its signature, expiry, entry and row all hold; undefined otherwise. */
export async function verifySession(
  d1: D1Database,
  entries: AuthEntry[],
  token: string,
  nowSeconds: number,
): Promise<Session | undefined> {
  const m = /^([A-Za-z0-9_-]{22})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token)
  if (!m) return undefined
  const [, id, expiry, signature] = m as unknown as [string, string, string, string]
  const expiresAt = Number(expiry)
  if (expiresAt <= nowSeconds) return undefined
  const given = encoder.encode(signature)
  // Every live admin entry is tried; the one whose key signed the cookie is the session's entry.
  let signer: AuthEntry | undefined
  for (const entry of entries.filter((e) => !e.rules && !isExpired(e, nowSeconds))) {
    const expected = encoder.encode(await sign(entry, `${id}.${expiry}`))
    if (expected.byteLength === given.byteLength && crypto.subtle.timingSafeEqual(expected, given))
      signer ??= entry
  }
  if (!signer) return undefined
  return (await sessionOpen(d1, id, secretId(signer.secret), nowSeconds)) ? { id, expiresAt } : undefined
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
