import { addCounts, zeroCounts, type Counts } from '../db/counts'
import { perIsolate } from '../db/per-isolate'
import { SharedRead } from '../db/shared-read'
import { type StatsRow } from '../db/stats.repo'
import { SUM_IN_JS_BYTES, windowStart, windowTail, type TailRow } from '../db/usage-tail.repo'
import { addBatchRow, hourOf, type HourRows } from './usage-sum'

/**
 * The last day's usage per (hour, key, model), kept by each isolate for the dashboard, which
 * re-reads the page on screen every 10 s. Summing the batch rows in D1 on each refresh read every
 * entry of the day again (D1 counts each json_each element as a row read): 34,000 rows a refresh for
 * 100 keys, a week of the free plan's reads in a day with the tab open. Here the day is summed once
 * per isolate; a refresh reads only the rows flushed since (`pnpm bench dashboard`).
 *
 * The cron compacts finished hours, folding their rows into their lowest ids. Rows the window has
 * read are summed the same either way; a row it has not read yet may be folded under an id it has,
 * and then the window starts again (usage-tail.repo.ts says how that is seen).
 */

const HOUR = 3600
/** How stale the window may be: concurrent calls and a page's several calls share one read. */
const FRESH_MS = 2_000
/** The window: 24 hours back from the current hour's start, the current hour included. */
const WINDOW_SECONDS = 24 * HOUR

export const hourStart = (unixSeconds: number) => unixSeconds - (unixSeconds % HOUR)

/** Where the window starts at `nowMs`. */
export const windowFrom = (nowMs: number) => hourStart(Math.floor(nowMs / 1000)) - WINDOW_SECONDS

/** Something kept beside the window that takes each hour the window lets go (usage-older.ts). */
export interface HourSink {
  take(hour: number, rows: StatsRow[]): void
}

/**
 * A sum of rows kept between calls (UsageWindow.fold): `add` folds a row into a value, `copy` gives
 * a value the caller may change without changing the kept one.
 */
export interface Fold<T> {
  /** One kept value per name: a fold that filters (one provider's rows) names the filter too. */
  name: string
  empty(): T
  add(into: T, row: StatsRow): void
  copy(value: T): T
}

/** A fold of the finished hours from `since`, and each hour's change stamp when it was folded. */
interface KeptFold {
  since: number
  hours: Map<number, number>
  value: unknown
}

/** Usage of one hour, provider and model: what the overview's cards show. */
export type ModelHour = { hour: number; provider: string; model: string } & Counts

export class UsageWindow {
  private hours: HourRows = new Map()
  /** Each hour's rows summed per (provider, model), until a row of that hour arrives (see summary). */
  private summaries = new Map<number, ModelHour[]>()
  /** Each hour's last change (a number that only grows), so a fold knows whether its hours moved. */
  private changed = new Map<number, number>()
  private changes = 0
  private folds = new Map<string, KeptFold>()
  private start = 0
  /** The highest batch id read (usage-tail.repo.ts); -1 before the first full read. */
  private seen = -1
  private checkedAt = 0
  /** Bumped by every change, so a read that settles after another changed the window is dropped. */
  private version = 0
  /**
   * The largest flush row lately read, in bytes: how many new rows a refresh may read whole and stay
   * within SUM_IN_JS_BYTES. Until one is read, the largest a row can be (1,000 entries).
   */
  private rowBytes = 80_000
  private readonly reading = new SharedRead()
  /** Parts kept beside the window (the week's older days) that take each hour it lets go. */
  readonly sinks = new Set<HourSink>()

  constructor(private readonly d1: D1Database) {}

  /** The first hour the window holds. */
  get from(): number {
    return this.start
  }

  /** Rows from `since` on (an hour start within the window), optionally for one provider or key. */
  async rows(
    filter: { since?: number; provider?: string | undefined; keyId?: number | undefined } = {},
    nowMs = Date.now(),
  ): Promise<StatsRow[]> {
    await this.current(nowMs)
    const out: StatsRow[] = []
    for (const [hour, rows] of this.hours) {
      if (filter.since !== undefined && hour < filter.since) continue
      for (const r of rows.values()) {
        if (filter.provider !== undefined && r.provider !== filter.provider) continue
        if (filter.keyId !== undefined && r.keyId !== filter.keyId) continue
        out.push(r)
      }
    }
    return out
  }

  /**
   * Usage per (hour, provider, model) from `since`: the overview's cards, without going over every
   * key's rows on each refresh (72,000 of them for a day of 1,000 keys and 3 models). Only hours that
   * took a row since the last call are summed again: the current one, mostly.
   */
  async summary(since: number, nowMs = Date.now()): Promise<ModelHour[]> {
    await this.current(nowMs)
    const out: ModelHour[] = []
    for (const [hour, rows] of this.hours) {
      if (hour < since) continue
      let summed = this.summaries.get(hour)
      if (!summed) this.summaries.set(hour, (summed = byModel(hour, rows.values())))
      out.push(...summed)
    }
    return out
  }

  /**
   * Every row from `since` (an hour start within the window) folded into one value: the keys page's
   * figures per key, the quota-left call's requests per model and key. Summed again on each refresh,
   * a day of 1,000 keys and 3 models is 72,000 rows and about 10 ms of CPU, the free plan's whole
   * allowance for a request. Finished hours are folded once and kept until a row of theirs arrives or
   * one leaves the window; each call copies that and folds the current hour's rows into the copy.
   */
  async fold<T>(fold: Fold<T>, since: number, nowMs = Date.now()): Promise<T> {
    await this.current(nowMs)
    const open = hourStart(Math.floor(nowMs / 1000))
    let kept = this.folds.get(fold.name)
    if (!kept || kept.since !== since || !this.unchanged(kept, open)) {
      const value = fold.empty()
      const hours = new Map<number, number>()
      for (const [hour, rows] of this.hours) {
        if (hour < since || hour >= open) continue
        for (const r of rows.values()) fold.add(value, r)
        hours.set(hour, this.changed.get(hour) ?? 0)
      }
      this.folds.set(fold.name, (kept = { since, hours, value }))
    }
    const out = fold.copy(kept.value as T)
    for (const [hour, rows] of this.hours) {
      if (hour >= open && hour >= since) for (const r of rows.values()) fold.add(out, r)
    }
    return out
  }

  /** Whether the finished hours a fold holds are the window's finished hours from its start, unchanged. */
  private unchanged(kept: KeptFold, open: number): boolean {
    let hours = 0
    for (const hour of this.hours.keys()) {
      if (hour < kept.since || hour >= open) continue
      if (kept.hours.get(hour) !== (this.changed.get(hour) ?? 0)) return false
      hours++
    }
    return hours === kept.hours.size
  }

  /** Brings the window up to date, at most every FRESH_MS; concurrent callers share one read. */
  async current(nowMs = Date.now()): Promise<void> {
    if (this.seen >= 0 && nowMs - this.checkedAt < FRESH_MS) return
    await this.reading.join(() => this.update(nowMs), nowMs)
  }

  private async update(nowMs: number): Promise<void> {
    this.slide(windowFrom(nowMs))
    if (this.seen < 0) return this.restart(nowMs)
    const version = this.version
    const maxRows = Math.max(12, Math.floor(SUM_IN_JS_BYTES / this.rowBytes))
    const tail = await windowTail(this.d1, this.seen, maxRows)
    // A read given up on (shared-read.ts) may settle after a newer one changed the window: it is
    // dropped, or rows would be counted twice.
    if (this.version !== version) return
    if (!tail.intact) return this.restart(nowMs)
    for (const row of tail.rows) this.add(row)
    if (tail.rows.length > 0) this.rowBytes = Math.max(1_000, ...tail.rows.map((r) => r.entries.length))
    this.seen = tail.seen
    this.checkedAt = nowMs
    this.version++
  }

  private async restart(nowMs: number): Promise<void> {
    const version = this.version
    const read = await windowStart(this.d1, this.start)
    if (this.version !== version) return
    this.hours = new Map()
    this.summaries = new Map()
    this.changed = new Map()
    this.folds = new Map()
    // The sums first: they are set as they are, and the rows are added to them.
    for (const r of read.sums ?? []) hourOf(this.hours, r.hour).set(`${r.keyId}|${r.model}`, { ...r })
    for (const row of read.rows) addBatchRow(this.hours, row)
    this.seen = read.seen
    this.checkedAt = nowMs
    this.version++
  }

  /** Lets go of the hours before `from`, handing them to the sinks. */
  private slide(from: number): void {
    if (from <= this.start) return
    for (const [hour, rows] of [...this.hours].sort(([a], [b]) => a - b)) {
      if (hour >= from) continue
      this.hours.delete(hour)
      this.summaries.delete(hour)
      this.changed.delete(hour)
      for (const sink of this.sinks) sink.take(hour, [...rows.values()])
    }
    this.start = from
    this.version++
  }

  private add(row: TailRow): void {
    if (row.hour < this.start) return
    addBatchRow(this.hours, row)
    this.summaries.delete(row.hour)
    this.changed.set(row.hour, ++this.changes)
  }
}

/** An hour's rows summed per (provider, model). */
function byModel(hour: number, rows: Iterable<StatsRow>): ModelHour[] {
  const sums = new Map<string, ModelHour>()
  for (const r of rows) {
    const id = `${r.provider}|${r.model}`
    let s = sums.get(id)
    if (!s) sums.set(id, (s = { hour, provider: r.provider, model: r.model, ...zeroCounts() }))
    addCounts(s, r)
  }
  return [...sums.values()]
}

/** The isolate's window over this D1. */
export const usageWindow = (() => {
  const windows = perIsolate<UsageWindow>()
  return (d1: D1Database) => windows(d1, () => new UsageWindow(d1))
})()
