import { parseAllow, type AuthEntry } from '../auth/auth-key'
import { clientsChangedSince, loadClients, type ClientRow } from '../db/clients.repo'
import { perIsolate } from '../db/per-isolate'
import { SeqView } from '../db/seq-view'
import { log } from '../log'
import { CLIENT_KEY_PREFIX, clientKeyHash } from './issue'
import type { Quotas } from './quotas'

/** Credentials recognised per isolate (see `known`): far more clients than a team has. */
const MAX_RECOGNISED = 1024

/** How often an unknown client key may make an isolate read the view again (see isNew). */
const NEW_KEY_RECHECK_MS = 1000

/**
 * An isolate's view of the client keys issued in the dashboard, by key hash, kept fresh the way the
 * pool is: one load, then only rows whose `seq` moved. Requests read it without touching D1; a
 * request that finds it older than half of POOL_REFRESH_SECONDS refreshes it in the background, one
 * that finds it older than the whole interval waits for the refresh, so a key disabled, deleted or
 * expired stops working within POOL_REFRESH_SECONDS on every isolate that serves it.
 *
 * Only credentials that are not the AUTH_KEY secret's reach it: a deployment without client keys
 * pays nothing on its requests.
 */
export class ClientBook extends SeqView<ClientRow> {
  private byHash = new Map<string, AuthEntry>()
  private hashOf = new Map<number, string>()
  /** Credentials that matched here, each with its entry: a repeat costs a Map lookup, not a digest. */
  private recognised = new Map<string, AuthEntry>()
  /** When an unknown client key last made this isolate read (see mayBeNew). */
  private lookedForNewAt = -Infinity

  constructor(db: D1Database, refreshMs: number) {
    // D1 unavailable: AUTH_KEY callers are unaffected; client keys fail closed until it is back (a
    // view never loaded knows no key), or are served from the last view.
    super(db, refreshMs, 'clients_refresh_failed')
  }

  protected load() {
    return loadClients(this.db)
  }

  protected changedSince(seq: number) {
    return clientsChangedSince(this.db, seq)
  }

  protected clear(): void {
    this.byHash = new Map()
    this.hashOf = new Map()
  }

  /** The entry of a credential seen before (a right one: a guess is never kept), without hashing. */
  known(credential: string): AuthEntry | undefined {
    return this.recognised.get(credential)
  }

  /** The entry of a client key, or undefined. Hashes the credential (synchronous, see sha256.ts). */
  lookup(credential: string): AuthEntry | undefined {
    const hit = this.recognised.get(credential)
    if (hit) return hit
    const entry = this.byHash.get(clientKeyHash(credential))
    if (entry && this.recognised.size < MAX_RECOGNISED) this.recognised.set(credential, entry)
    return entry
  }

  /**
   * Whether a credential may be a client key issued after this view was read: shaped like one and not
   * in it. An operator hands a new key out at once, so it must work at once on every isolate, not
   * within POOL_REFRESH_SECONDS; what this costs a stream of made-up keys is bounded to a read a
   * second per isolate (and the auth throttle).
   */
  mayBeNew(credential: string, now: number): boolean {
    if (!credential.startsWith(CLIENT_KEY_PREFIX) || this.recognised.has(credential)) return false
    if (this.byHash.has(clientKeyHash(credential))) return false
    // A read already running may bring it: wait for that one rather than refuse.
    if (this.reading.current(now)) return true
    if (now - this.lookedForNewAt < NEW_KEY_RECHECK_MS) return false
    this.lookedForNewAt = now
    return true
  }

  protected apply(rows: ClientRow[]): void {
    if (rows.length === 0) return
    // Any change may be a key turned off: nothing recognised before is trusted after it.
    this.recognised = new Map()
    for (const row of rows) {
      const old = this.hashOf.get(row.id)
      if (old !== undefined) this.byHash.delete(old)
      this.hashOf.delete(row.id)
      if (row.status === 'deleted' || !row.keyHash) continue
      this.byHash.set(row.keyHash, toEntry(row))
      this.hashOf.set(row.id, row.keyHash)
    }
  }
}

/** A client row as the entry authentication and authorisation read. */
export function toEntry(row: ClientRow): AuthEntry {
  return {
    secret: `client:${row.keyHash}`,
    ...(row.expiresAt !== null ? { expiresAt: row.expiresAt } : {}),
    ...(row.allow ? { rules: parseAllowSafely(row.allow, row.id) } : {}),
    client: {
      id: row.id,
      name: row.name,
      quotas: parseQuotas(row.quotas),
      storedObjects: row.storedObjects === 1,
      disabled: row.status === 'disabled',
    },
  }
}

/** Stored text was checked when written; a row that still fails allows nothing rather than everything. */
function parseAllowSafely(allow: string, id: number): Map<string, Set<string>> {
  try {
    return parseAllow(allow)
  } catch {
    log('client_allow_unreadable', { client: id })
    return new Map()
  }
}

function parseQuotas(text: string): Quotas {
  try {
    const q = JSON.parse(text) as Quotas
    return typeof q === 'object' && q !== null ? q : {}
  } catch {
    return {}
  }
}

const books = perIsolate<ClientBook>()

export const clientBookFor = (d1: D1Database, refreshMs: number): ClientBook =>
  books(d1, () => new ClientBook(d1, refreshMs))
