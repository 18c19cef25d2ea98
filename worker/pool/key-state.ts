import type { Config } from '../config'
import {
  deleteKeys,
  hasUnsealedKeys,
  insertKeys,
  sealKeys,
  unsealedKeys,
  updateKeys,
  type KeyChanges,
  type NewKeys,
} from '../db/admin.repo'
import type { CooldownScope } from '../db/cooldowns'
import { markChecked, purgeTombstones, sweepExpiredCooldowns } from '../db/health.repo'
import { perIsolate } from '../db/per-isolate'
import { blockKey, setCooldown, setGroupCooldown, unblockKey } from '../db/pool.repo'
import { retryIdempotent } from '../db/retry'
import type { PoolRow } from '../db/rows'
import type { Vault } from '../db/vault'
import type { ProviderId } from '../providers/types'
import { poolFor, type Pool } from './pool'

/**
 * The one owner of a key's state. Every change (cool, block, unblock, add, delete, an admin edit)
 * goes through here: it writes D1 and keeps this isolate's pool views right at once, so a caller
 * never has to remember a second step. Other isolates learn the change from `seq` at their next
 * refresh; the dashboard's AdminView reads changed rows on every call, so it needs nothing here.
 */
export class KeyState {
  constructor(
    private readonly d1: D1Database,
    private readonly pool: Pool,
    private readonly vault: Vault,
  ) {}

  /**
   * Cools (key, scope) until `until` (unix seconds) unless a cooldown as long runs. The isolate stops
   * picking the key before the write lands. Returns whether D1 changed (the key was active and not
   * cooling as long already). `reason` is a code (ours or the provider's), kept for the dashboard.
   */
  async coolDown(
    provider: ProviderId,
    id: number,
    scope: CooldownScope,
    until: number,
    reason: string,
  ): Promise<boolean> {
    this.pool.loaded(provider)?.applyLocalCooldown(id, scope, until)
    this.pool.nudge(provider)
    const code = reasonCode(reason)
    return this.applied(await retryIdempotent(() => setCooldown(this.d1, id, scope, until, code)))
  }

  /**
   * The same, for the key and every key of its group (a quota they share, such as a Google Cloud
   * project's daily quota), in one statement. Returns how many keys it cooled.
   */
  async coolDownGroup(
    provider: ProviderId,
    id: number,
    scope: CooldownScope,
    until: number,
    reason: string,
  ): Promise<number> {
    this.pool.loaded(provider)?.applyLocalGroupCooldown(id, scope, until)
    this.pool.nudge(provider)
    const rows = await retryIdempotent(() => setGroupCooldown(this.d1, id, scope, until, reasonCode(reason)))
    for (const row of rows) this.pool.apply(row)
    return rows.length
  }

  /** Blocks an active key; the isolate stops picking it before the write lands. */
  async block(provider: ProviderId, id: number, reason: string, at: number): Promise<boolean> {
    this.pool.loaded(provider)?.applyLocalBlock(id)
    this.pool.nudge(provider)
    return this.applied(await retryIdempotent(() => blockKey(this.d1, id, reason, at)))
  }

  /** Restores a blocked key. Returns whether it was blocked. */
  async unblock(id: number): Promise<boolean> {
    return this.applied(await retryIdempotent(() => unblockKey(this.d1, id)))
  }

  /**
   * Adds keys, sealed (db/vault.ts), skipping ones already stored; this isolate's next request sees
   * them. Returns how many were new, and every given key's id in order.
   */
  async add(
    input: Omit<NewKeys, 'keys' | 'unsealedRemain'> & { keys: string[] },
  ): Promise<{ added: number; ids: number[] }> {
    const [keys, unsealedRemain] = await Promise.all([
      Promise.all(
        input.keys.map(async (plain) => ({
          plain,
          sealed: await this.vault.seal(plain),
          fingerprint: await this.vault.fingerprint(input.provider, plain),
        })),
      ),
      hasUnsealedKeys(this.d1),
    ])
    const result = await insertKeys(this.d1, { ...input, keys, unsealedRemain })
    this.pool.invalidate(input.provider)
    return result
  }

  /**
   * Seals up to `limit` keys stored before encryption (the cron calls this until none are left).
   * Views need nothing: they open either form of a key. Returns how many were sealed.
   */
  async sealLegacy(limit: number): Promise<number> {
    const rows = await unsealedKeys(this.d1, limit)
    const sealed = await Promise.all(
      rows.map(async (r) => ({
        id: r.id,
        provider: r.provider,
        plain: r.key,
        sealed: await this.vault.seal(r.key),
        fingerprint: await this.vault.fingerprint(r.provider, r.key),
      })),
    )
    return sealKeys(this.d1, sealed)
  }

  /** Deletes keys (tombstones, key material wiped). Returns how many were deleted. */
  async remove(ids: number[]): Promise<number> {
    const deleted = await deleteKeys(this.d1, ids)
    this.pool.invalidate()
    return deleted
  }

  /** An admin edit of many keys: block, unblock, clear cooldowns, remark. Returns how many changed. */
  async update(ids: number[], changes: KeyChanges, nowSeconds: number): Promise<number> {
    const updated = await updateKeys(this.d1, ids, changes, nowSeconds)
    this.pool.invalidate()
    return updated
  }

  /** Records when keys were last checked (no pool-visible state changes). */
  markChecked(ids: number[], at: number): Promise<void> {
    return markChecked(this.d1, ids, at)
  }

  /** Drops cooldowns that have run out; views need nothing (they already ignore expired ones). */
  sweepExpired(nowSeconds: number): Promise<number> {
    return sweepExpiredCooldowns(this.d1, nowSeconds)
  }

  /** Purges tombstones made before `before`; every view has reloaded in full since (tombstones.ts). */
  purgeTombstones(before: number): Promise<number> {
    return purgeTombstones(this.d1, before)
  }

  private applied(row: PoolRow | undefined): boolean {
    if (row) this.pool.apply(row)
    return row !== undefined
  }
}

const states = perIsolate<KeyState>()

export const keyStateFor = (
  d1: D1Database,
  config: Pick<Config, 'poolRefreshMs' | 'selection' | 'stormMs' | 'vault'>,
): KeyState => states(d1, () => new KeyState(d1, poolFor(d1, config), config.vault))

/** A reason is a short code; anything longer is cut, so no stray text can grow a row. */
const reasonCode = (reason: string) => reason.slice(0, 64)
