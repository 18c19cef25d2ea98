import { ALL_MODELS, parseCooldowns, type Cooldowns } from '../db/cooldowns'
import type { KeyStatus, PoolRow } from '../db/rows'

export interface PoolKey {
  id: number
  key: string
  /** model → unix seconds until which the key must not be used for it. */
  cooldowns: Cooldowns
  seq: number
}

export function toPoolKey(row: PoolRow): PoolKey {
  return { id: row.id, key: row.key, cooldowns: parseCooldowns(row.cooldowns), seq: row.seq }
}

export function coolingUntil(key: PoolKey, model: string): number {
  return Math.max(key.cooldowns[model] ?? 0, key.cooldowns[ALL_MODELS] ?? 0)
}

/**
 * One provider's active keys as this isolate last saw them. Selection walks a ring from a cursor that
 * starts at a random place in every isolate and advances past each key it hands out: load spreads
 * evenly over eligible keys, and a cooling key costs one comparison, not a query.
 */
export class ProviderView {
  /** Every row seen for this provider (its seq and status), so a stale row can be recognised. */
  private readonly seen = new Map<number, { seq: number; status: KeyStatus }>()
  private readonly active = new Map<number, PoolKey>()
  private ring: PoolKey[] = []
  /** key id → unix seconds until which this isolate prefers other keys (transient failures). */
  private readonly shaky = new Map<number, number>()
  private cursor = 0
  maxSeq = 0
  loadedAt = 0
  refreshedAt = 0
  refreshing: Promise<void> | undefined
  /** Set when this isolate changed the pool through the admin API. */
  stale = false
  /** The refresh every request waits for after such a change. */
  syncing: Promise<void> | undefined

  constructor(rows: PoolRow[], maxSeq: number, now: number) {
    this.applyRows(rows)
    this.maxSeq = maxSeq
    this.loadedAt = now
    this.refreshedAt = now
    this.cursor = Math.floor(Math.random() * Math.max(1, this.ring.length))
  }

  get activeCount(): number {
    return this.ring.length
  }

  get blockedCount(): number {
    let n = 0
    for (const s of this.seen.values()) if (s.status === 'blocked') n++
    return n
  }

  /**
   * Applies rows read from D1 or returned by this isolate's own writes. A row older than the one held
   * (lower seq) is ignored: a refresh that raced with our own write must not undo it.
   */
  applyRows(rows: PoolRow[]): void {
    let membershipChanged = false
    for (const row of rows) {
      const held = this.seen.get(row.id)
      if (held && held.seq > row.seq) continue
      this.seen.set(row.id, { seq: row.seq, status: row.status })
      const current = this.active.get(row.id)
      if (row.status === 'active' && current) {
        // Same object stays in the ring: a cooldown change costs no rebuild.
        Object.assign(current, toPoolKey(row))
      } else if (row.status === 'active') {
        this.active.set(row.id, toPoolKey(row))
        membershipChanged = true
      } else if (current) {
        this.active.delete(row.id)
        membershipChanged = true
      }
    }
    if (membershipChanged) {
      this.ring = shuffled([...this.active.values()])
      if (this.cursor >= this.ring.length) this.cursor = 0
    }
  }

  /** Takes effect in this isolate before (and even if not) the D1 write lands. */
  applyLocalCooldown(id: number, model: string, until: number): void {
    const k = this.active.get(id)
    if (k) k.cooldowns[model] = Math.max(k.cooldowns[model] ?? 0, until)
  }

  applyLocalBlock(id: number): void {
    const held = this.seen.get(id)
    if (held) held.status = 'blocked'
    if (this.active.delete(id)) {
      this.ring = shuffled([...this.active.values()])
      if (this.cursor >= this.ring.length) this.cursor = 0
    }
  }

  /** Next eligible key for `model` that this request has not tried yet. */
  pick(model: string, nowSeconds: number, exclude: ReadonlySet<number>): PoolKey | undefined {
    // First a key that has not just failed transiently; failing that, any eligible key.
    return this.walk(model, nowSeconds, exclude, true) ?? this.walk(model, nowSeconds, exclude, false)
  }

  private walk(model: string, nowSeconds: number, exclude: ReadonlySet<number>, avoidShaky: boolean) {
    const n = this.ring.length
    for (let i = 0; i < n; i++) {
      const index = (this.cursor + i) % n
      const k = this.ring[index] as PoolKey
      if (exclude.has(k.id) || coolingUntil(k, model) > nowSeconds) continue
      if (avoidShaky && (this.shaky.get(k.id) ?? 0) > nowSeconds) continue
      this.cursor = (index + 1) % n
      return k
    }
    return undefined
  }

  /**
   * A 5xx or a network error says nothing certain about the key, so nothing is stored; but this
   * isolate tries other keys first for a few seconds, so a flaky key does not eat a request's attempts.
   */
  markShaky(id: number, untilSeconds: number): void {
    this.shaky.set(id, untilSeconds)
  }

  /** Soonest moment (unix seconds) a key becomes usable for `model`; undefined if none is cooling. */
  soonestAvailable(model: string, nowSeconds: number): number | undefined {
    let soonest: number | undefined
    for (const k of this.ring) {
      const until = coolingUntil(k, model)
      if (until > nowSeconds && (soonest === undefined || until < soonest)) soonest = until
    }
    return soonest
  }
}

/**
 * Keys added together (often from one account, and so failing together) would otherwise sit next to
 * each other in the ring, and a request could spend all its attempts on them.
 */
function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[items[i], items[j]] = [items[j] as T, items[i] as T]
  }
  return items
}
