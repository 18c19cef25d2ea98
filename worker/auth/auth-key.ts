import type { Quotas } from '../clients/quotas'

/**
 * AUTH_KEY grammar, compatible with one-balance so its users can move over:
 *
 *   AUTH_KEY  := entry (';' entry)*
 *   entry     := secret ['(' unixExpirySeconds ')'] ['=' rule ('&' rule)*]
 *   rule      := provider (',' model)*
 *
 * An entry without rules may use every provider and model; a rule without models allows every model
 * of that provider. Only unrestricted, unexpired entries may use the admin API.
 */
export interface AuthEntry {
  /** The secret itself for an AUTH_KEY entry; `client:<hash>` for a client key (never the key). */
  secret: string
  /** Unix seconds after which the entry no longer authenticates. */
  expiresAt?: number
  /** provider → allowed models (empty set: all models). Undefined: unrestricted. */
  rules?: Map<string, Set<string>>
  /** Set for a client key issued in the dashboard (clients/book.ts), never for an AUTH_KEY entry. */
  client?: IssuedClient
}

/** What keyrelay knows of a client key issued in the dashboard. */
export interface IssuedClient {
  id: number
  name: string
  quotas: Quotas
  /** May use stored-object endpoints when STORED_OBJECTS is `admin`. */
  storedObjects: boolean
  disabled: boolean
}

export class AuthKeyFormatError extends Error {}

const ENTRY = /^([^()=;&,\s]+)(?:\((\d{1,12})\))?(?:=(.+))?$/

export function parseAuthKeys(raw: string): AuthEntry[] {
  const entries: AuthEntry[] = []
  const parts = raw.split(';').map((p) => p.trim())
  parts.forEach((part, index) => {
    if (part === '') return
    const m = ENTRY.exec(part)
    // Messages name the entry's position, never its text: the text is the secret.
    if (!m) throw new AuthKeyFormatError(`entry ${index + 1} is malformed`)
    const [, secret, expiry, rulesText] = m
    const entry: AuthEntry = { secret: secret as string }
    if (expiry !== undefined) entry.expiresAt = Number(expiry)
    if (rulesText !== undefined) entry.rules = parseRules(rulesText, index + 1)
    entries.push(entry)
  })
  if (entries.length === 0) throw new AuthKeyFormatError('has no entries')
  return entries
}

/** A client key's allow-list, in the same rule grammar (`provider,model&provider`). */
export function parseAllow(text: string): Map<string, Set<string>> {
  return parseRules(text, 1)
}

function parseRules(text: string, entryNo: number): Map<string, Set<string>> {
  const rules = new Map<string, Set<string>>()
  for (const rule of text.split('&')) {
    const [provider, ...models] = rule.split(',').map((s) => s.trim())
    if (!provider || models.some((m) => m === '')) {
      throw new AuthKeyFormatError(`entry ${entryNo} has a malformed provider rule`)
    }
    const set = rules.get(provider) ?? new Set<string>()
    models.forEach((m) => set.add(m))
    rules.set(provider, set)
  }
  return rules
}

/** Whether `entry` may call `provider` (and `model`, when known). Expiry is checked by the caller. */
export function entryAllows(entry: AuthEntry, provider: string, model: string | undefined): boolean {
  if (!entry.rules) return true
  const models = entry.rules.get(provider)
  if (!models) return false
  if (models.size === 0) return true
  return model !== undefined && models.has(model)
}

/** Whether `entry` may use at least some model of `provider`. */
export function entryAllowsProvider(entry: AuthEntry, provider: string): boolean {
  return !entry.rules || entry.rules.has(provider)
}

export function isExpired(entry: AuthEntry, nowSeconds: number): boolean {
  return entry.expiresAt !== undefined && entry.expiresAt <= nowSeconds
}
