import { SharedRead } from '../db/shared-read'
import type { StatsRow } from '../db/stats.repo'
import type { HourSink, UsageWindow } from './usage-window'

/**
 * A week's usage older than the window (a provider's hourly series, one key's hours), for pages that
 * show seven days. Read from D1 once per isolate, then fed by each hour the window lets go, so a
 * refresh reads nothing for it. An hour past the window is finished: a flush that reaches it later
 * (from an isolate that held its counts a whole day) is not seen until the isolate starts over.
 */
export class OlderPart<T extends { hour: number }> implements HourSink {
  private held: T[] | undefined
  private readonly reading = new SharedRead()

  constructor(
    private readonly window: UsageWindow,
    /** The rows of hours in [since, until). */
    private readonly read: (since: number, until: number) => Promise<T[]>,
    /** An hour the window let go, in this part's shape. */
    private readonly fold: (hour: number, rows: StatsRow[]) => T[],
  ) {}

  take(hour: number, rows: StatsRow[]): void {
    this.held?.push(...this.fold(hour, rows))
  }

  /** Stops taking hours (the part is no longer kept). */
  release(): void {
    this.window.sinks.delete(this)
  }

  /** Rows from `since` (an hour start) up to the window's first hour. */
  async rows(since: number, nowMs = Date.now()): Promise<T[]> {
    await this.window.current(nowMs)
    if (!this.held) await this.reading.join(() => this.load(since), nowMs)
    // Lost a race with the window letting an hour go: this call reads for itself.
    if (!this.held) return this.read(since, this.window.from)
    // Hours that fell out of the week go.
    this.held = this.held.filter((r) => r.hour >= since)
    return [...this.held]
  }

  private async load(since: number): Promise<void> {
    const until = this.window.from
    const rows = await this.read(since, until)
    // The window let an hour go meanwhile: that hour is in neither part; the next call reads again.
    if (this.window.from !== until) return
    this.held = rows
    this.window.sinks.add(this)
  }
}
