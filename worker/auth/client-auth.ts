import { AppError } from '../http/errors'
import { entryAllows, isExpired, type AuthEntry } from './auth-key'
import { matchSecret } from './compare'
import { checkThrottle, recordFailure, recordSuccess } from './throttle'

function bearerToken(value: string | null): string | undefined {
  const m = value ? /^Bearer\s+(\S+)\s*$/i.exec(value) : null
  return m?.[1] ?? undefined
}

/** Where a route's clients carry their API key besides a Bearer token (a provider adapter is one). */
export interface CredentialPlace {
  authHeader?: string
  queryKeyParam?: string
}

/**
 * The AUTH_KEY as the client sent it: in the route's own API-key header (what the provider's SDK
 * does anyway), in its query parameter (Google's `?key=`), or as a Bearer token, which works on
 * every route.
 */
export function clientCredential(
  headers: Headers,
  url: URL,
  place: CredentialPlace = {},
): string | undefined {
  const native = place.authHeader ? headers.get(place.authHeader) : null
  if (native) return place.authHeader === 'authorization' ? bearerToken(native) : native.trim()
  const fromQuery = place.queryKeyParam ? url.searchParams.get(place.queryKeyParam) : null
  if (fromQuery) return fromQuery
  return bearerToken(headers.get('authorization'))
}

/** Each configuration's secrets, listed once: matchSecret keeps what it learns per list. */
const secretLists = new WeakMap<AuthEntry[], string[]>()

function secretsOf(entries: AuthEntry[]): string[] {
  let secrets = secretLists.get(entries)
  if (!secrets) secretLists.set(entries, (secrets = entries.map((e) => e.secret)))
  return secrets
}

/** Who is asking, and when: failed attempts are counted per client address (throttle.ts). */
export interface Attempt {
  nowSeconds: number
  client: string
}

/** Client keys issued in the dashboard, as one isolate knows them (clients/book.ts). */
export interface IssuedKeys {
  /** A credential that matched before, without hashing. */
  known(credential: string): AuthEntry | undefined
  lookup(credential: string): AuthEntry | undefined
}

/**
 * Finds the AUTH_KEY entry matching `credential`, or else the issued client key. Every AUTH_KEY entry
 * is compared, matched or not, in constant time, so timing reveals neither which entry matched nor
 * how much of a guess was right; a client key is found by its digest, which says nothing of any
 * key. A new wrong credential counts against the client's address before the answer, in the same
 * synchronous step as the check (throttle.ts).
 */
export function authenticate(
  entries: AuthEntry[],
  credential: string | undefined,
  at: Attempt,
  issued?: IssuedKeys,
): AuthEntry {
  checkThrottle(at.client, at.nowSeconds)
  if (!credential)
    throw new AppError(401, 'missing_auth_key', 'Missing AUTH_KEY: send it in the API-key header')
  const entry =
    issued?.known(credential) ??
    entries[matchSecret(secretsOf(entries), credential)] ??
    issued?.lookup(credential)
  if (!entry) {
    recordFailure(at.client, at.nowSeconds, credential)
    throw new AppError(401, 'invalid_auth_key', 'Invalid AUTH_KEY or client key')
  }
  const what = entry.client ? 'client key' : 'AUTH_KEY'
  if (entry.client?.disabled) throw new AppError(401, 'client_key_disabled', 'This client key is disabled')
  if (isExpired(entry, at.nowSeconds)) throw new AppError(401, 'auth_key_expired', `This ${what} has expired`)
  recordSuccess(at.client, at.nowSeconds)
  return entry
}

/** Whether `credential` is one of the AUTH_KEY secret's entries (no failure is counted). */
export function isOwnSecret(entries: AuthEntry[], credential: string): boolean {
  return matchSecret(secretsOf(entries), credential) !== -1
}

export function authorize(entry: AuthEntry, provider: string, model: string | undefined): void {
  if (!entryAllows(entry, provider, model)) {
    const what = model ? `provider ${provider}, model ${model}` : `provider ${provider}`
    const who = entry.client ? 'client key' : 'AUTH_KEY'
    throw new AppError(403, 'auth_key_forbidden', `This ${who} is not allowed to use ${what}`)
  }
}

/**
 * Whether this entry may use stored-object endpoints (files, batches, stored responses): what they
 * reach lives on the provider account behind the pool keys, shared by every client, so only the
 * operator's STORED_OBJECTS setting opens them (`admin`: unrestricted AUTH_KEY entries, and client
 * keys the operator allowed one by one).
 */
export function mayStore(entry: AuthEntry, setting: 'off' | 'admin' | 'on'): boolean {
  if (setting !== 'admin') return setting === 'on'
  return entry.client ? entry.client.storedObjects : !entry.rules
}

export const storedObjectsDisabled = (): AppError =>
  new AppError(
    403,
    'stored_objects_disabled',
    'Stored-object endpoints (files, batches, stored completions and responses) reach what every client of the shared provider keys stored; the operator allows them with STORED_OBJECTS',
  )

export function authorizeStored(entry: AuthEntry, setting: 'off' | 'admin' | 'on'): void {
  if (!mayStore(entry, setting)) throw storedObjectsDisabled()
}

/** Admin calls: an AUTH_KEY entry with no provider restrictions (a Bearer token, or a login's). */
export function authenticateAdmin(
  entries: AuthEntry[],
  credential: string | undefined,
  at: Attempt,
): AuthEntry {
  const entry = authenticate(entries, credential, at)
  if (entry.rules)
    throw new AppError(403, 'admin_forbidden', 'A restricted AUTH_KEY cannot use the admin API')
  return entry
}

export const bearerCredential = (headers: Headers): string | undefined =>
  bearerToken(headers.get('authorization'))
