import { addCounts, zeroCounts } from '../db/counts'
import { perIsolate } from '../db/per-isolate'
import { TRANSIENT } from '../db/retry'
import { appendUsage, type StatsDelta } from '../db/stats.repo'
import { log } from '../log'

export type Outcome = 'success' | 'rate_limited' | 'error'

export interface UsageEvent {
  keyId: number
  provider: string
  model: string
  outcome: Outcome
  /** HTTP status for errors (0 when upstream could not be reached). */
  status?: number
  /** Short code for errors: a verdict reason, never upstream text. */
  reason?: string
}

/** Beyond this many buckets an isolate that cannot reach D1 stops growing: the newest are dropped. */
const MAX_BUCKETS = 20_000

/** One armed flush loop stays within the 30 s that `waitUntil` keeps work alive after a response. */
const MAX_LOOP_MS = 20_000

/**
 * Usage counted in this isolate's memory and flushed to D1 as aggregated increments at most once per
 * interval. A flush is scheduled through `waitUntil` when the first event after the last one arrives,
 * so counts reach D1 within one interval even if traffic stops. What an isolate that dies (evicted,
 * crashed) has not flushed yet is lost: at most one interval of its counts.
 */
export class StatsBuffer {
  private buckets = new Map<string, StatsDelta>()
  private pending: Promise<void> | undefined

  constructor(
    private readonly d1: D1Database,
    private readonly flushMs: number,
  ) {}

  record(e: UsageEvent, now = Date.now()): void {
    const at = Math.floor(now / 1000)
    const hour = at - (at % 3600)
    const id = `${e.keyId}|${e.model}|${hour}`
    let b = this.buckets.get(id)
    if (!b) {
      if (this.buckets.size >= MAX_BUCKETS) return
      b = {
        keyId: e.keyId,
        provider: e.provider,
        model: e.model,
        hour,
        ...zeroCounts(),
        lastUsed: at,
        lastErrorAt: null,
        lastErrorStatus: null,
        lastErrorReason: null,
      }
      this.buckets.set(id, b)
    }
    b.requests++
    b.lastUsed = at
    if (e.outcome === 'success') b.successes++
    else if (e.outcome === 'rate_limited') b.rateLimited++
    else b.errors++
    if (e.outcome !== 'success') {
      b.lastErrorAt = at
      b.lastErrorStatus = e.status ?? null
      b.lastErrorReason = e.reason ?? null
    }
  }

  /**
   * Arms a flush one interval from now unless one is already armed. The armed loop keeps flushing
   * while events keep arriving (they land in the buffer during a flush), so none is left behind
   * waiting for a next request that may never come.
   */
  schedule(waitUntil: (p: Promise<unknown>) => void): void {
    if (this.pending || this.buckets.size === 0) return
    this.pending = this.loop(Date.now())
    waitUntil(this.pending)
  }

  private async loop(started: number): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, this.flushMs))
      await this.flush()
      // Checked and cleared in one synchronous step: an event recorded after this re-arms a loop.
      if (this.buckets.size === 0 || Date.now() - started > MAX_LOOP_MS) {
        this.pending = undefined
        return
      }
    }
  }

  async flush(): Promise<void> {
    if (this.buckets.size === 0) return
    const taken = this.buckets
    this.buckets = new Map()
    try {
      await appendUsage(this.d1, [...taken.values()])
    } catch (e) {
      const error = String(e).slice(0, 200)
      if (!TRANSIENT(e)) {
        // D1 refused the batch for what it holds (too big, malformed): retrying it would fail the
        // same way forever and keep every later count from being written. Drop it, say so.
        log('stats_dropped', { buckets: taken.size, error })
        return
      }
      // D1 was busy or unreachable: put the counts back so the next flush carries them; nothing is
      // counted twice because the failed batch was one transaction.
      for (const [id, d] of taken) this.merge(id, d)
      log('stats_flush_failed', { buckets: taken.size, error })
    }
  }

  private merge(id: string, d: StatsDelta): void {
    const b = this.buckets.get(id)
    if (!b) {
      if (this.buckets.size < MAX_BUCKETS) this.buckets.set(id, d)
      return
    }
    addCounts(b, d)
    b.lastUsed = Math.max(b.lastUsed, d.lastUsed)
    if (b.lastErrorAt === null && d.lastErrorAt !== null) {
      b.lastErrorAt = d.lastErrorAt
      b.lastErrorStatus = d.lastErrorStatus
      b.lastErrorReason = d.lastErrorReason
    }
  }
}

const buffers = perIsolate<StatsBuffer>()

export const statsFor = (d1: D1Database, flushMs: number): StatsBuffer =>
  buffers(d1, () => new StatsBuffer(d1, flushMs))
