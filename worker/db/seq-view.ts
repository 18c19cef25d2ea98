import { log, type LogEvent } from '../log'
import { ANY_ERROR, retryIdempotent } from './retry'
import { SharedRead } from './shared-read'
import { FULL_RELOAD_MS } from './tombstones'

/**
 * An isolate's copy of a small table kept fresh the way the pool is: one load, then only the rows
 * whose `seq` moved (tombstones included), with a full reload every FULL_RELOAD_MS. Concurrent
 * requests share one read. The client keys' and the aliases' views are built on it.
 */
export abstract class SeqView<Row extends { seq: number }> {
  protected loadedAt = -Infinity
  protected refreshedAt = -Infinity
  protected readonly reading = new SharedRead<void>()
  private maxSeq = 0

  constructor(
    protected readonly db: D1Database,
    protected readonly refreshMs: number,
    private readonly failure: LogEvent,
  ) {}

  protected abstract load(): Promise<{ rows: Row[]; maxSeq: number }>
  protected abstract changedSince(seq: number): Promise<Row[]>
  /** Forgets every row: a full reload follows. */
  protected abstract clear(): void
  protected abstract apply(rows: Row[]): void

  /** Whether a request must wait for a read (cold, or older than the refresh interval). */
  mustRead(now: number): boolean {
    return now - this.refreshedAt >= this.refreshMs || now - this.loadedAt >= FULL_RELOAD_MS
  }

  /** Reads what changed (or loads, the first time); waiting requests share one read. */
  read(now: number, waitUntil: (p: Promise<unknown>) => void): Promise<void> {
    return this.reading.join(() => this.readNow(now), now, waitUntil)
  }

  /** Called by a request served from the view: refreshes in the background past half the interval. */
  freshen(now: number, waitUntil: (p: Promise<unknown>) => void): void {
    if (now - this.refreshedAt >= this.refreshMs / 2 && !this.reading.current(now))
      void this.read(now, waitUntil)
  }

  /** An admin change made in this isolate: the next request that needs the view reads first. */
  invalidate(): void {
    this.refreshedAt = -Infinity
  }

  private async readNow(now: number): Promise<void> {
    try {
      if (now - this.loadedAt >= FULL_RELOAD_MS) {
        const { rows, maxSeq } = await retryIdempotent(() => this.load(), ANY_ERROR)
        this.clear()
        this.apply(rows)
        this.maxSeq = maxSeq
        this.loadedAt = now
      } else {
        const rows = await retryIdempotent(() => this.changedSince(this.maxSeq), ANY_ERROR)
        this.apply(rows)
        for (const r of rows) this.maxSeq = Math.max(this.maxSeq, r.seq)
      }
      this.refreshedAt = Math.max(this.refreshedAt, now)
    } catch (e) {
      // D1 unavailable: served from the last view, or (never loaded) from none.
      log(this.failure, { error: String(e).slice(0, 200) })
      if (this.loadedAt > -Infinity) this.refreshedAt = Math.max(this.refreshedAt, now)
    }
  }
}
