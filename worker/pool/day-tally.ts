import { entryName, syncDayTally } from '../db/day-tally.repo'
import { toOverrides, type LimitOverride } from '../db/limits.repo'
import { perIsolate } from '../db/per-isolate'
import { ANY_ERROR, BUSY, retryIdempotent } from '../db/retry'
import { SharedRead } from '../db/shared-read'
import { log } from '../log'
import type { FreeTier } from '../providers/free-tier'
import { pacificDayStart, secondsUntilPacificMidnight } from '../providers/rate-limit'
import { PROVIDERS } from '../providers/registry'
import type { ProviderId } from '../providers/types'
import type { PoolKey } from './view'

/**
 * Within this many requests of its daily figure, a project's counts are synced after every request
 * that adds to them (and only there are they: far from a figure, with the usage flush). Isolates then
 * see each other's counts near the end of a project's day, when they decide whether it has any left.
 */
export const nearFigure = (figure: number): number => Math.max(4, Math.ceil(figure / 10))

/** The last day dayOf worked out, per time zone: the request path asks on every upstream answer. */
const lastDay = new Map<string, { day: string; start: number; end: number }>()

/** The day a provider's daily quotas count in, as `YYYY-MM-DD` of its start. */
export function dayOf(tier: FreeTier, nowMs: number): string {
  const held = lastDay.get(tier.dayStartsIn)
  if (held && nowMs >= held.start && nowMs < held.end) return held.day
  const utc = tier.dayStartsIn === 'UTC'
  const start = utc ? nowMs - (nowMs % 86_400_000) : pacificDayStart(nowMs)
  // Whole seconds rounded up: the last second of a day is worked out again, never the next day's first.
  const end = utc ? start + 86_400_000 : nowMs + (secondsUntilPacificMidnight(nowMs) - 1) * 1000
  const day = new Date(start).toISOString().slice(0, 10)
  lastDay.set(tier.dayStartsIn, { day, start, end })
  return day
}

/** A figure per project: by key group (a project of several keys), and by key for the others. */
interface Sums {
  byGroup: Map<string, number>
  byKey: Map<number, number>
}

/** A model's requests today per project. */
interface ModelUse extends Sums {
  max: number
  /** Some project is near its figure and has not reached it: worth reading others' counts (freshen). */
  open: boolean
}

/** What the tally needs of a pool view: its keys' groups, and when they last changed. */
type PoolKeys = { generation: number; keys(): readonly PoolKey[] }

/** Near a figure, how old this isolate's read of the tally may be before a pick waits for a new one. */
const NEAR_READ_MS = 1000

interface Tally {
  tier: FreeTier
  /** The day `remote` and `used` are of. */
  day: string
  /** Entry (db/day-tally.repo.ts entryName) → every isolate's synced total, as the last sync read it. */
  remote: Map<string, number>
  /** day → entry → counted here, not yet sent. */
  pending: Map<string, Map<string, number>>
  /** day → entry → sent by the sync in flight. */
  inflight: Map<string, Map<string, number>>
  /** The operator's figures, as the last sync read them (undefined before the first). */
  overrides: LimitOverride[] | undefined
  syncedAt: number
  /** key id → its group (null: a project of its own), as the pool view last showed it. */
  groups: Map<number, string | null>
  groupsOf: number
  /** model → requests today (remote + inflight + pending), built when first asked. */
  used: Map<string, ModelUse> | undefined
  /** A project got near its figure here: sync at the end of the request. */
  urgent: boolean
  /** The synced totals by project at an earlier read, to measure each project's pace against. */
  base: { at: number; sums: Map<string, Sums> } | undefined
  /**
   * model → per project, what other isolates may have counted and not synced yet: the project's pace
   * between two reads times the flush interval (their counts reach D1 at most that late, until a
   * project is near its figure and every isolate syncs at once). A project is near by its count plus this.
   */
  unseen: Map<string, Sums>
  syncing: SharedRead<void>
}

const addTo = <K>(m: Map<K, number>, name: K, n: number) => m.set(name, (m.get(name) ?? 0) + n)

function bucket<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k)
  if (v === undefined) m.set(k, (v = make()))
  return v
}

/**
 * Each project's requests today per model, for the providers whose adapter knows daily figures
 * (Google's free tier, overridable per model and group in the dashboard), so that a pick passes over
 * a project that has used its day before Google answers 429: its keys are tried last for that model,
 * after every other key of their tier (never refused: a figure can be wrong, and Google's own 429 is
 * the proof; it puts the key on cooldown until midnight as before).
 *
 * Counted in memory and synced to D1 (`day_tally`, one row per provider and day) with the usage
 * flush; each sync adds this isolate's counts and reads every isolate's back in one batch. Near a
 * figure (nearFigure) every request that adds to it syncs, so isolates see each other's counts where
 * it matters. What isolates count between two syncs can still go past a figure; the 429 that then
 * comes is the same one keyrelay met before this existed.
 */
export class DayTally {
  private readonly tallies = new Map<ProviderId, Tally>()

  constructor(
    private readonly db: D1Database,
    /** STATS_FLUSH_SECONDS: how late another isolate's counts may reach D1 far from a figure. */
    private readonly flushMs: number,
  ) {}

  /** An upstream answer of `keyId` for `model`; a 429 is not counted (Google did not count it). */
  count(provider: ProviderId, model: string, keyId: number, nowMs: number): void {
    const t = this.of(provider, nowMs)
    if (!t || !this.tracked(t, model)) return
    this.roll(t, nowMs)
    const built = t.used !== undefined
    addTo(
      bucket(t.pending, t.day, () => new Map()),
      entryName(model, keyId),
      1,
    )
    const group = t.groups.get(keyId) ?? null
    // Built now, the counts include this one; built before, it is added to them.
    const use = bucket(this.usedOf(t), model, emptyUse)
    if (built && group) addTo(use.byGroup, group, 1)
    else if (built) addTo(use.byKey, keyId, 1)
    const used = (group ? use.byGroup.get(group) : use.byKey.get(keyId)) ?? 0
    use.max = Math.max(use.max, used)
    if (this.near(t, model, group, keyId, used)) {
      t.urgent = true
      use.open = true
    } else if (used >= (figureOf(t, model, group) ?? Infinity)) {
      t.urgent = true // the last count before a figure: the others should know at once
    }
  }

  /**
   * A read to wait for before this request picks a key: the provider's tally has never been read
   * here, or a project is near its figure for `model` and this isolate has not read it for
   * NEAR_READ_MS. The read costs one round trip to D1 a second at most, only near a figure, where it
   * saves a 429 (a round trip to the provider and a retry); it also sends this isolate's counts.
   */
  freshen(
    provider: ProviderId,
    model: string,
    keys: PoolKeys,
    nowMs: number,
    waitUntil: (p: Promise<unknown>) => void,
  ): Promise<void> | undefined {
    const t = this.of(provider, nowMs)
    if (!t || !this.tracked(t, model)) return undefined
    if (t.overrides !== undefined) {
      if (nowMs - t.syncedAt < NEAR_READ_MS || !this.prepare(t, keys, nowMs).get(model)?.open)
        return undefined
    } else if (t.syncing.current(nowMs)) {
      return t.syncing.current(nowMs)
    }
    // A read only: this isolate's counts far from a figure wait for the flush, near one they went
    // at once (urgent); a row written per pick would cost D1 a write per request near every figure.
    return t.syncing.join(() => this.syncNow(provider, t, nowMs, false), nowMs, waitUntil)
  }

  /**
   * Whether a key's project has used its day for `model`, as this isolate knows it; undefined when
   * none can have (no figure for the model, or no project that far): the pick then costs nothing more.
   */
  spentFor(
    provider: ProviderId,
    model: string,
    keys: PoolKeys,
    nowMs: number,
  ): ((k: PoolKey) => boolean) | undefined {
    const t = this.tallies.get(provider)
    if (!t || !this.tracked(t, model)) return undefined
    const use = this.prepare(t, keys, nowMs).get(model)
    if (!use || use.max < lowestFigure(t, model)) return undefined
    const figures = new Map<string | null, number | undefined>()
    return (k) => {
      let figure = figures.get(k.group)
      if (figure === undefined && !figures.has(k.group))
        figures.set(k.group, (figure = figureOf(t, model, k.group)))
      if (figure === undefined) return false
      const used = k.group ? use.byGroup.get(k.group) : use.byKey.get(k.id)
      return (used ?? 0) >= figure
    }
  }

  /** Today's counts by project, with the projects as the pool view has them now. */
  private prepare(t: Tally, keys: PoolKeys, nowMs: number): Map<string, ModelUse> {
    this.roll(t, nowMs)
    if (t.groupsOf !== keys.generation) {
      t.groups = new Map(keys.keys().map((k) => [k.id, k.group]))
      t.groupsOf = keys.generation
      t.used = undefined
    }
    return this.usedOf(t)
  }

  /** Whether a sync should start now: a project near its figure, or a provider never synced. */
  urgent(nowMs: number): boolean {
    for (const t of this.tallies.values()) {
      if (t.urgent || (t.overrides === undefined && !t.syncing.current(nowMs))) return true
    }
    return false
  }

  /** Sends every provider's counts and reads each one's day back (with the usage flush, or when urgent). */
  async sync(nowMs = Date.now(), waitUntil?: (p: Promise<unknown>) => void): Promise<void> {
    await Promise.all(
      [...this.tallies].map(([provider, t]) => {
        if (!t.urgent && t.overrides !== undefined && t.pending.size === 0) return undefined
        // Joining a read already in flight leaves the counts (and `urgent`) for the next request.
        return t.syncing.join(() => this.syncNow(provider, t, nowMs, true), nowMs, waitUntil)
      }),
    )
  }

  private async syncNow(provider: ProviderId, t: Tally, nowMs: number, send: boolean): Promise<void> {
    const today = dayOf(t.tier, nowMs)
    const sending = send ? t.pending : new Map<string, Map<string, number>>()
    if (send) {
      t.pending = new Map()
      t.urgent = false
    }
    t.inflight = sending
    try {
      // Retried only where D1 refused a batch before running it (one transaction): an add must
      // not count twice. A read alone may be retried on any error.
      for (const [day, deltas] of sending) {
        if (day !== today) await retryIdempotent(() => syncDayTally(this.db, provider, day, deltas), BUSY)
      }
      const deltas = sending.get(today) ?? new Map<string, number>()
      const read = await retryIdempotent(
        () => syncDayTally(this.db, provider, today, deltas),
        deltas.size > 0 ? BUSY : ANY_ERROR,
      )
      t.inflight = new Map()
      this.roll(t, nowMs)
      t.overrides = toOverrides(read.overrides)
      if (t.day === today) {
        t.remote = read.counts
        this.pace(t, nowMs)
      }
      t.syncedAt = nowMs
      t.used = undefined
    } catch (e) {
      // Nothing of the failed batch was added: its counts go back, to be sent with the next sync.
      for (const [day, deltas] of t.inflight) {
        const into = bucket(t.pending, day, () => new Map())
        for (const [name, n] of deltas) addTo(into, name, n)
      }
      t.inflight = new Map()
      // Figures unknown stay unknown: the next request tries again (not every request: overrides []).
      t.overrides ??= []
      log('day_tally_sync_failed', { provider, error: String(e).slice(0, 200) })
    }
  }

  private of(provider: ProviderId, nowMs: number): Tally | undefined {
    let t = this.tallies.get(provider)
    if (t) return t
    const tier = PROVIDERS[provider].freeTier
    if (!tier) return undefined
    t = {
      tier,
      day: dayOf(tier, nowMs),
      remote: new Map(),
      pending: new Map(),
      inflight: new Map(),
      overrides: undefined,
      syncedAt: 0,
      groups: new Map(),
      groupsOf: -1,
      used: undefined,
      urgent: false,
      base: undefined,
      unseen: new Map(),
      syncing: new SharedRead(),
    }
    this.tallies.set(provider, t)
    return t
  }

  /** A model counts if a daily figure can apply to it: the adapter's table, or an operator's figure. */
  private tracked(t: Tally, model: string): boolean {
    return (
      t.tier.models[model]?.requestsPerDay !== undefined ||
      (t.overrides?.some((o) => o.model === model && o.requestsPerDay !== undefined) ?? false)
    )
  }

  /** At the day's end, the synced totals are of the day before: today starts from what is unsent. */
  private roll(t: Tally, nowMs: number): void {
    const today = dayOf(t.tier, nowMs)
    if (t.day === today) return
    t.day = today
    t.remote = new Map()
    t.used = undefined
    t.base = undefined
    t.unseen = new Map()
  }

  private usedOf(t: Tally): Map<string, ModelUse> {
    if (t.used) return t.used
    const today = [t.inflight.get(t.day), t.pending.get(t.day)].filter((m) => m !== undefined)
    const used = sumsOf(t, [t.remote, ...today], emptyUse)
    for (const [model, use] of used) {
      for (const [group, n] of use.byGroup) if (this.near(t, model, group, 0, n)) use.open = true
      for (const [keyId, n] of use.byKey) if (this.near(t, model, null, keyId, n)) use.open = true
      for (const n of [...use.byGroup.values(), ...use.byKey.values()]) use.max = Math.max(use.max, n)
    }
    return (t.used = used)
  }

  /** Whether a project with `used` requests today may be near its figure, and has not reached it. */
  private near(t: Tally, model: string, group: string | null, keyId: number, used: number): boolean {
    const figure = figureOf(t, model, group)
    if (figure === undefined || used >= figure) return false
    const pace = t.unseen.get(model)
    const unseen = (group ? pace?.byGroup.get(group) : pace?.byKey.get(keyId)) ?? 0
    return used + unseen >= figure - nearFigure(figure)
  }

  /**
   * Each project's pace since an earlier read at least half a flush interval ago (shorter, a count
   * of a few requests says little), turned into what others may count before their next flush.
   */
  private pace(t: Tally, nowMs: number): void {
    const sums = sumsOf(t, [t.remote], emptySums)
    if (!t.base) {
      t.base = { at: nowMs, sums }
      return
    }
    const ms = nowMs - t.base.at
    if (ms < this.flushMs / 2) return
    const unseen = new Map<string, Sums>()
    for (const [model, now] of sums) {
      const before = t.base.sums.get(model)
      const ahead = bucket(unseen, model, emptySums)
      const of = (n: number, was: number | undefined) =>
        Math.ceil((Math.max(0, n - (was ?? 0)) / ms) * this.flushMs)
      for (const [group, n] of now.byGroup) ahead.byGroup.set(group, of(n, before?.byGroup.get(group)))
      for (const [keyId, n] of now.byKey) ahead.byKey.set(keyId, of(n, before?.byKey.get(keyId)))
    }
    t.unseen = unseen
    t.base = { at: nowMs, sums }
  }
}

/** Counts by entry name (model|key id), summed per model and project with the groups the tally holds. */
function sumsOf<S extends Sums>(t: Tally, counts: Map<string, number>[], make: () => S): Map<string, S> {
  const out = new Map<string, S>()
  for (const m of counts) {
    for (const [name, n] of m) {
      const bar = name.lastIndexOf('|')
      const s = bucket(out, name.slice(0, bar), make)
      const keyId = Number(name.slice(bar + 1))
      const group = t.groups.get(keyId) ?? null
      if (group) addTo(s.byGroup, group, n)
      else addTo(s.byKey, keyId, n)
    }
  }
  return out
}

const emptySums = (): Sums => ({ byGroup: new Map(), byKey: new Map() })

const emptyUse = (): ModelUse => ({ byGroup: new Map(), byKey: new Map(), max: 0, open: false })

/** The figure of `model` for a key of `group`: the group's override, the all-group one, the table's. */
function figureOf(t: Tally, model: string, group: string | null): number | undefined {
  const o = t.overrides
  const of = (g: string) => o?.find((x) => x.model === model && x.group === g)?.requestsPerDay
  return (group ? of(group) : undefined) ?? of('') ?? t.tier.models[model]?.requestsPerDay
}

/** The lowest figure any project can have for `model`: below it, no project has used its day. */
function lowestFigure(t: Tally, model: string): number {
  let lowest = t.tier.models[model]?.requestsPerDay ?? Infinity
  for (const o of t.overrides ?? []) {
    if (o.model === model && o.requestsPerDay !== undefined) lowest = Math.min(lowest, o.requestsPerDay)
  }
  return lowest
}

const tallies = perIsolate<DayTally>()

export const tallyFor = (d1: D1Database, flushMs: number): DayTally =>
  tallies(d1, () => new DayTally(d1, flushMs))
