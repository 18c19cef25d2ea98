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

/**
 * Cloudflare cancels `waitUntil` work 30 s after its request's response, so no timer may wait longer
 * than this: a longer interval is kept by flushing on a request instead (see schedule).
 */
const MAX_TRAILING_MS = 20_000
/** A request arms a new trailing timer at most this often; the newest one supersedes the others. */
const REARM_MS = 5_000

/**
 * Usage counted in this isolate's memory and flushed to D1 as aggregated increments. A busy isolate
 * flushes on the first request after STATS_FLUSH_SECONDS have passed since its last flush, so any
 * interval costs what the README's table says; when traffic stops, a trailing timer (at most 20 s,
 * inside the 30 s Cloudflare keeps a request's background work) writes what is left. What an isolate
 * that dies (evicted, crashed) has not flushed yet is lost: at most one interval of its counts.
 */
export class StatsBuffer {
  private buckets = new Map<string, StatsDelta>()
  private lastFlushAt = 0
  private trailingArmedAt = -Infinity
  private generation = 0

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
   * Called after each request that recorded usage, with that request's `waitUntil`. Flushes now when
   * the interval has passed; otherwise makes sure a trailing timer will flush after the isolate goes
   * quiet. Every timer lives inside the request that armed it (under 30 s), and the newest one always
   * fires after every count recorded since it was armed (it waits at least REARM_MS, and a later
   * request arms a newer one), so no count waits for a request that may never come.
   */
  schedule(waitUntil: (p: Promise<unknown>) => void, now = Date.now()): void {
    if (this.buckets.size === 0) return
    if (now - this.lastFlushAt >= this.flushMs) {
      // Set before the flush starts, so concurrent requests do not each start one.
      this.lastFlushAt = now
      waitUntil(this.flush())
    }
    const trailingMs = Math.min(this.flushMs, MAX_TRAILING_MS)
    if (now - this.trailingArmedAt >= Math.min(REARM_MS, trailingMs)) {
      this.trailingArmedAt = now
      const generation = ++this.generation
      waitUntil(
        new Promise((resolve) => setTimeout(resolve, trailingMs)).then(() => {
          // A newer timer covers everything this one would; only the newest flushes.
          if (generation !== this.generation) return
          this.lastFlushAt = Date.now()
          return this.flush()
        }),
      )
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
