import type { Selection } from '../config'
import { cooledUntil, parseCooldowns, type Cooldowns } from '../db/cooldowns'
import type { PoolRow } from '../db/rows'
import type { KeyStatus } from '../db/statuses'
import { SharedRead } from '../db/shared-read'
import { KeyHealth } from './health'

export interface PoolKey {
  id: number
  /** As stored (sealed); opened when used. */
  key: string
  /** model → unix seconds until which the key must not be used for it. */
  cooldowns: Cooldowns
  seq: number
  group: string | null
  weight: number
  tier: number
  /** Smooth weighted round-robin's running credit (this isolate only). */
  credit: number
  /**
   * 1 / the number of active keys of its group in its tier: keys of a group share one quota (a
   * Google project, an account), so together they weigh as one key, and every project is spent
   * evenly instead of in proportion to how many keys it has.
   */
  share: number
}

export function toPoolKey(row: PoolRow): PoolKey {
  return {
    id: row.id,
    key: row.key,
    cooldowns: parseCooldowns(row.cooldowns),
    seq: row.seq,
    group: row.keyGroup,
    weight: row.weight,
    tier: row.tier,
    credit: 0,
    share: 1,
  }
}

/** A tier's keys in ring order, with the cursor its window starts from. */
interface Tier {
  keys: PoolKey[]
  cursor: number
}

/**
 * Weighted rendezvous hashing: every isolate, with no state shared, sends a conversation to the same
 * eligible key, the one whose score for it is highest; a key that cannot serve moves only the
 * conversations it held, each to its next key, and the traffic stays spread in proportion to weight
 * (operator weight times the group's share; measured health is left out, as it moves between
 * isolates and would move conversations with it). Reads every key of the tier: a few µs per
 * hundred keys.
 */
function rendezvous(keys: PoolKey[], ok: (k: PoolKey) => boolean, affinity: number): PoolKey | undefined {
  let best: PoolKey | undefined
  let bestScore = -Infinity
  for (const k of keys) {
    if (!ok(k)) continue
    // A uniform draw in (0, 1) from the pair; -w / ln(u) is the weighted form (Schindelhauer).
    const u = (mix(affinity ^ Math.imul(k.id, 0x9e3779b1)) + 0.5) / 4_294_967_296
    const score = (k.weight * k.share) / -Math.log(u)
    if (score > bestScore) {
      best = k
      bestScore = score
    }
  }
  return best
}

/** MurmurHash3's 32-bit finaliser: every input bit moves every output bit. */
function mix(x: number): number {
  let h = x >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** Keys weighed per pick: all of a tier up to this many (exact shares), a moving slice beyond. */
const WINDOW = 64

/** During a storm, the share of a key with no answer since it began, next to a key with one. */
const UNPROVEN = 0.02

export function coolingUntil(key: PoolKey, model: string): number {
  return cooledUntil(key.cooldowns, model)
}

/**
 * One provider's active keys as this isolate last saw them. Selection is smooth weighted
 * round-robin (nginx's): each eligible key earns its effective weight in credit, the richest is
 * picked and pays the total back. Equal weights give a strict rotation, unequal ones spread picks
 * in proportion without bursts, and a cooling key costs one comparison, not a query. Only keys of
 * the lowest tier that can serve the model take part; the effective weight is the operator's
 * weight times the key's measured health (health.ts), unless SELECTION is `uniform`.
 */
export class ProviderView {
  /** Every row seen for this provider (its seq and status), so a stale row can be recognised. */
  private readonly seen = new Map<number, { seq: number; status: KeyStatus }>()
  private readonly active = new Map<number, PoolKey>()
  private ring: PoolKey[] = []
  /** The ring split by tier, lowest first, each with the cursor its window starts from. */
  private tiers: Tier[] = []
  /** key id → unix seconds until which this isolate prefers other keys (transient failures). */
  private readonly shaky = new Map<number, number>()
  /** key id → requests of this isolate now gambling on it (see gamble()). */
  private readonly gambling = new Map<number, number>()
  readonly health = new KeyHealth()
  maxSeq = 0
  loadedAt = 0
  refreshedAt = 0
  /** The read of rows changed since maxSeq, shared by this isolate's requests. */
  readonly refreshing = new SharedRead()
  /** Set when this isolate changed the pool through the admin API. */
  stale = false
  /** The refresh every request waits for after such a change. */
  readonly syncing = new SharedRead()
  /** Set when this isolate learned a key's limit: other isolates' lessons are likely waiting too. */
  nudged = false
  /**
   * The storm in this isolate (ms): from when its first limited attempt was sent until stormMs after
   * its last verdict.
   */
  private stormSince = 0
  private stormUntil = 0

  constructor(
    rows: PoolRow[],
    maxSeq: number,
    now: number,
    private readonly selection: Selection = 'weighted',
    private readonly stormMs = 0,
  ) {
    this.applyRows(rows)
    this.maxSeq = maxSeq
    this.loadedAt = now
    this.refreshedAt = now
  }

  /** Moves on whenever the active keys, their groups or tiers change (pool/day-tally.ts reads groups). */
  generation = 0

  /** The active keys, in ring order. */
  keys(): readonly PoolKey[] {
    return this.ring
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
        // Same object stays in the ring: a cooldown change costs no rebuild; it keeps its credit.
        const { group, tier } = current
        Object.assign(current, { ...toPoolKey(row), credit: current.credit, share: current.share })
        if (current.group !== group || current.tier !== tier) membershipChanged = true
      } else if (row.status === 'active') {
        this.active.set(row.id, toPoolKey(row))
        membershipChanged = true
      } else if (current) {
        this.active.delete(row.id)
        membershipChanged = true
      }
    }
    if (membershipChanged) this.rebuild()
  }

  /** The ring (shuffled: keys added together, often failing together, do not sit side by side) by tier. */
  private rebuild(): void {
    this.generation++
    this.ring = shuffled([...this.active.values()])
    const byTier = new Map<number, PoolKey[]>()
    for (const k of this.ring) {
      const keys = byTier.get(k.tier)
      if (keys) keys.push(k)
      else byTier.set(k.tier, [k])
    }
    this.tiers = [...byTier]
      .sort(([a], [b]) => a - b)
      .map(([, keys]) => ({ keys, cursor: Math.floor(Math.random() * keys.length) }))
    for (const { keys } of this.tiers) {
      const sizes = new Map<string, number>()
      for (const k of keys) if (k.group) sizes.set(k.group, (sizes.get(k.group) ?? 0) + 1)
      for (const k of keys) k.share = k.group ? 1 / (sizes.get(k.group) ?? 1) : 1
    }
  }

  /** Takes effect in this isolate before (and even if not) the D1 write lands. */
  applyLocalCooldown(id: number, model: string, until: number): void {
    const k = this.active.get(id)
    if (k) k.cooldowns[model] = Math.max(k.cooldowns[model] ?? 0, until)
  }

  /** A cooldown for every key of `id`'s group (a shared quota), before the D1 write lands. */
  applyLocalGroupCooldown(id: number, model: string, until: number): void {
    const group = this.active.get(id)?.group
    if (!group) return this.applyLocalCooldown(id, model, until)
    for (const k of this.ring) if (k.group === group) this.applyLocalCooldown(k.id, model, until)
  }

  applyLocalBlock(id: number): void {
    const held = this.seen.get(id)
    if (held) held.status = 'blocked'
    if (this.active.delete(id)) this.rebuild()
  }

  /**
   * This isolate met a limit (a 429, a dead key, a spent budget) on an attempt sent at `sentMs`: a
   * storm is on, or goes on, for stormMs. In a storm other isolates are meeting limited keys too, and
   * their lessons reach this one only through D1, tens of milliseconds or more later. A new storm
   * begins when that attempt was sent, not when its answer came: a key that answered after the
   * limited one was asked is as fresh a witness as one asked after the verdict, and at a storm's
   * start it is the only kind there is (the requests sent alongside the limited one).
   */
  verdict(nowMs: number, sentMs = nowMs): void {
    if (this.stormMs === 0) return
    if (nowMs >= this.stormUntil) this.stormSince = Math.min(sentMs, nowMs)
    this.stormUntil = nowMs + this.stormMs
  }

  /**
   * Whether picking `k` now is a gamble: a storm is on and the key has not answered this isolate
   * since it began. Other isolates may have found it limited already; their lesson is in D1.
   */
  unproven(k: PoolKey, nowMs: number): boolean {
    if (this.selection !== 'weighted') return false // SELECTION=uniform: no storm steering at all
    return nowMs < this.stormUntil && !this.health.answeredSince(k.id, this.stormSince)
  }

  /**
   * A request of this isolate is about to gamble on `id`: until it answers (call the returned
   * function), other requests here prefer any other key to gambling on the same one. Concurrent
   * requests at a storm's start would otherwise find one limited key together.
   */
  gamble(id: number): () => void {
    this.gambling.set(id, (this.gambling.get(id) ?? 0) + 1)
    return () => {
      const n = (this.gambling.get(id) ?? 1) - 1
      if (n > 0) this.gambling.set(id, n)
      else this.gambling.delete(id)
    }
  }

  /** Whether the key is still active here and not cooling for `model` (after a refresh). */
  usable(k: PoolKey, model: string, nowSeconds: number): boolean {
    return this.active.get(k.id) === k && coolingUntil(k, model) <= nowSeconds
  }

  /**
   * Next eligible key for `model` that this request has not tried yet, from the lowest tier that has
   * one (a tier-0 key in doubt is still taken before any tier-1 key). Within the tier, in order:
   * while a request here is gambling (see gamble), a key that has answered since the storm began;
   * then a key that has not just failed transiently and is not being gambled on; then any. A second
   * gamble sent before the first answers is twice the chance of meeting a key another isolate has
   * just found limited, and the answer on its way (with the read before the next gamble) may rule
   * out more keys. Measured with 8 isolates: a tenth to a quarter fewer wasted calls.
   *
   * `spent` (pool/day-tally.ts) marks keys whose project has used its day for the model by count:
   * within their tier they come after every other key, whatever else is known of them.
   */
  pick(
    model: string,
    nowSeconds: number,
    exclude: ReadonlySet<number>,
    /** A conversation's hash (proxy/conversation.ts): its key, while that key can serve. */
    affinity?: number,
    spent?: (k: PoolKey) => boolean,
  ): PoolKey | undefined {
    const nowMs = nowSeconds * 1000
    const eligible = (k: PoolKey) => !exclude.has(k.id) && coolingUntil(k, model) <= nowSeconds
    const fresh = spent ? (k: PoolKey) => eligible(k) && !spent(k) : eligible
    const sure = (k: PoolKey) =>
      fresh(k) && (this.shaky.get(k.id) ?? 0) <= nowSeconds && !this.gambling.has(k.id)
    const proven = (k: PoolKey) => sure(k) && !this.unproven(k, nowMs)
    // After the storm every key counts as proven, and that pass would only repeat the next one.
    const holding = this.gambling.size > 0 && nowMs < this.stormUntil
    for (const tier of this.tiers) {
      const chosen =
        affinity === undefined
          ? (holding && this.scan(tier, proven, nowMs)) ||
            this.scan(tier, sure, nowMs) ||
            this.scan(tier, fresh, nowMs) ||
            (spent && this.scan(tier, eligible, nowMs))
          : // A conversation keeps its key even in a storm: a cold prompt cache costs more than the
            // one attempt a limited key wastes. Only a key that just failed transiently is passed over.
            rendezvous(tier.keys, (k) => fresh(k) && (this.shaky.get(k.id) ?? 0) <= nowSeconds, affinity) ||
            rendezvous(tier.keys, fresh, affinity) ||
            (spent && rendezvous(tier.keys, eligible, affinity))
      if (chosen) return chosen
    }
    return undefined
  }

  /**
   * What a key weighs in a pick. `weighted`: the operator's weight times its measured health and,
   * during a storm, a small share for keys that have not answered here since it began: until other
   * isolates' lessons arrive, a key that answered since the first 429 is the safe bet and any other
   * is a likely 429. Every key keeps some traffic, and its full share once the storm is over, so a
   * key that went bad is still found out, only not by every isolate at once. `uniform`: the
   * operator's weight alone. Both are shared among the keys of a group (PoolKey.share).
   */
  private weightOf(k: PoolKey, nowMs: number): number {
    if (this.selection !== 'weighted') return k.weight * k.share
    const health = this.health.score(k.id, nowMs) * (this.unproven(k, nowMs) ? UNPROVEN : 1)
    return k.weight * k.share * health
  }

  /**
   * Smooth weighted round-robin over a window of the tier's ring from its cursor: the whole tier when
   * small (exact shares), a bounded slice of a big one (a pick stays cheap with 10,000 keys; the
   * cursor moves on, so every key has its turn). Scanning stops once the window is full of eligible
   * keys. Credits change only when a key is chosen.
   */
  private scan(tier: Tier, eligible: (k: PoolKey) => boolean, nowMs: number) {
    const ring = tier.keys
    const n = ring.length
    let chosen: PoolKey | undefined
    let chosenAt = 0
    let total = 0
    let seen = 0
    for (let i = 0; i < n && seen < WINDOW; i++) {
      const at = (tier.cursor + i) % n
      const k = ring[at] as PoolKey
      if (!eligible(k)) continue
      seen++
      const w = this.weightOf(k, nowMs)
      k.credit += w
      total += w
      if (!chosen || k.credit > chosen.credit) {
        chosen = k
        chosenAt = at
      }
    }
    if (!chosen) return undefined
    chosen.credit -= total
    if (n > WINDOW) tier.cursor = (chosenAt + 1) % n
    return chosen
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
