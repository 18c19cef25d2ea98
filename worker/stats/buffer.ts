import { ledgerFor, type ClientLedger } from '../clients/ledger'
import { NO_MODEL } from '../db/cooldowns'
import { addCounts, zeroCounts } from '../db/counts'
import { perIsolate } from '../db/per-isolate'
import { BUSY, TRANSIENT, retryIdempotent } from '../db/retry'
import { appendUsage, type StatsDelta } from '../db/stats.repo'
import { log } from '../log'
import { tallyFor, type DayTally } from '../pool/day-tally'
import type { ProviderId } from '../providers/types'
import {
  addEntry,
  countRequest,
  emptyEntry,
  REQUEST_FIELDS,
  type RequestEntry,
  type RequestEvent,
} from '../db/request-entry'
import type { Tokens } from './usage-read'

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

/**
 * Beyond this many buckets an isolate that cannot reach D1 stops growing: the newest events are
 * dropped, and counted (`stats_dropped` says how many at the next flush).
 */
const MAX_BUCKETS = 20_000

/**
 * Usage of a model the provider has not shown to be real is counted under this name. A model name is
 * the caller's text: 20,000 requests naming 20,000 models would otherwise make 20,000 usage rows a
 * day and an overview of a megabyte. Parentheses cannot occur in a model name (proxy/model.ts).
 */
export const OTHER_MODELS = '(other)'

/** Model names kept per provider in an isolate: far more than any provider serves. */
const MAX_NAMED_MODELS = 200

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
  /** `provider|model|hour` → that hour's client requests (db/request-entry.ts), for the metrics. */
  private requests = new Map<string, HourRequests>()
  /** provider → models that answered 2xx or 429 here: the provider ran or metered them, so they exist. */
  private readonly named = new Map<string, Set<string>>()
  /** provider → models with only errors since the last flush (see nameOf). */
  private readonly unproven = new Map<string, Set<string>>()
  /** Events not counted since the last flush (MAX_BUCKETS reached). */
  private dropped = 0
  private lastFlushAt = 0
  private trailingArmedAt = -Infinity
  private generation = 0

  constructor(
    private readonly d1: D1Database,
    private readonly flushMs: number,
    /** Client keys' usage (clients/ledger.ts), sent with every flush. */
    private readonly ledger?: ClientLedger,
    /** Each project's requests today (pool/day-tally.ts), sent with every flush and near a figure. */
    private readonly tally?: DayTally,
  ) {}

  record(e: UsageEvent, now = Date.now()): void {
    const at = Math.floor(now / 1000)
    const b = this.bucket(e, at)
    if (!b) return
    b.requests++
    b.lastUsed = at
    if (e.outcome === 'success') b.successes++
    else if (e.outcome === 'rate_limited') b.rateLimited++
    else b.errors++
    // The provider counts every request it answered but those it refused with 429.
    if (e.outcome !== 'rate_limited') this.tally?.count(e.provider as ProviderId, e.model, e.keyId, now)
    if (e.outcome !== 'success') {
      b.lastErrorAt = at
      b.lastErrorStatus = e.status ?? null
      b.lastErrorReason = e.reason ?? null
    }
  }

  /**
   * The tokens an answer reported, added to its key and model in the hour its body ended (a stream
   * may end an hour after it started; its request was counted when it started).
   */
  recordTokens(e: Omit<UsageEvent, 'outcome'>, t: Tokens, now = Date.now()): void {
    const b = this.bucket({ ...e, outcome: 'success' }, Math.floor(now / 1000))
    if (!b) return
    b.inputTokens += t.input
    b.outputTokens += t.output
    b.cachedTokens += t.cached
  }

  /** A client request that ended (dispatch), by the status it got and how long it took. */
  recordRequest(e: RequestEvent, now = Date.now()): void {
    const outcome = e.status === 429 ? 'rate_limited' : e.status < 400 ? 'success' : 'error'
    const entry = this.requestEntry(e.provider, this.nameOf({ ...e, keyId: 0, outcome }), now)
    countRequest(entry, e)
  }

  /** A key blocked on proof while serving a request for `model`. */
  recordBlock(e: { provider: string; model: string }, now = Date.now()): void {
    const entry = this.requestEntry(e.provider, this.nameOf({ ...e, keyId: 0, outcome: 'error' }), now)
    entry[REQUEST_FIELDS.blocks]++
  }

  private requestEntry(provider: string, model: string, now: number): RequestEntry {
    const at = Math.floor(now / 1000)
    const hour = at - (at % 3600)
    const id = `${provider}|${model}|${hour}`
    let r = this.requests.get(id)
    // Bounded without a check: nameOf caps the models per provider, and a flush covers few hours.
    if (!r) this.requests.set(id, (r = { hour, entry: emptyEntry(provider, model) }))
    return r.entry
  }

  /** The bucket of an event's key, model and hour (created empty), or none when the buffer is full. */
  private bucket(e: UsageEvent, at: number): StatsDelta | undefined {
    const hour = at - (at % 3600)
    const model = this.nameOf(e)
    const id = `${e.keyId}|${model}|${hour}`
    let b = this.buckets.get(id)
    if (!b) {
      if (this.buckets.size >= MAX_BUCKETS) {
        this.dropped++
        return undefined
      }
      b = {
        keyId: e.keyId,
        provider: e.provider,
        model,
        hour,
        ...zeroCounts(),
        lastUsed: at,
        lastErrorAt: null,
        lastErrorStatus: null,
        lastErrorReason: null,
      }
      this.buckets.set(id, b)
    }
    return b
  }

  /**
   * The name usage is counted under: the model's own once it answered 2xx or 429 (the provider ran or
   * metered it, so it exists), NO_MODEL as it is, and OTHER_MODELS for any other, so that a caller's
   * invented names share one bucket however many there are. An error of a model not yet proven keeps
   * its name until the flush, which folds it into OTHER_MODELS unless a 2xx or 429 proved the model
   * meanwhile: a dead key met before the first success does not hide a real model's errors.
   */
  private nameOf(e: UsageEvent): string {
    if (e.model === NO_MODEL) return e.model
    const named = this.names(this.named, e.provider)
    if (named.has(e.model)) return e.model
    const proven = e.outcome === 'success' || e.outcome === 'rate_limited'
    const list = proven ? named : this.names(this.unproven, e.provider)
    if (list.has(e.model)) return e.model
    if (list.size >= MAX_NAMED_MODELS) return OTHER_MODELS
    list.add(e.model)
    return e.model
  }

  private names(map: Map<string, Set<string>>, provider: string): Set<string> {
    let names = map.get(provider)
    if (!names) map.set(provider, (names = new Set()))
    return names
  }

  /** Whether a model's name is kept at a flush (else it is counted under OTHER_MODELS). */
  private keeps(provider: string, model: string): boolean {
    return model === NO_MODEL || model === OTHER_MODELS || this.named.get(provider)?.has(model) === true
  }

  /** What the buffer holds, with every model still unproven folded into OTHER_MODELS, and emptied. */
  private take(): { usage: Map<string, StatsDelta>; requests: Map<string, HourRequests> } {
    const usage = new Map<string, StatsDelta>()
    for (const [id, b] of this.buckets) {
      if (this.keeps(b.provider, b.model)) mergeInto(usage, id, b)
      else mergeInto(usage, `${b.keyId}|${OTHER_MODELS}|${b.hour}`, { ...b, model: OTHER_MODELS })
    }
    const requests = new Map<string, HourRequests>()
    for (const r of this.requests.values()) {
      const [provider, model] = r.entry
      const kept = this.keeps(provider, model) ? r : { hour: r.hour, entry: renamed(r.entry, OTHER_MODELS) }
      mergeRequests(requests, kept)
    }
    this.unproven.clear()
    this.buckets = new Map()
    this.requests = new Map()
    return { usage, requests }
  }

  /**
   * Called after each request that recorded usage, with that request's `waitUntil`. Flushes now when
   * the interval has passed; otherwise makes sure a trailing timer will flush after the isolate goes
   * quiet. Every timer lives inside the request that armed it (under 30 s), and the newest one always
   * fires after every count recorded since it was armed (it waits at least REARM_MS, and a later
   * request arms a newer one), so no count waits for a request that may never come.
   */
  schedule(waitUntil: (p: Promise<unknown>) => void, now = Date.now()): void {
    // A project near its daily figure, or a provider this isolate has not synced yet: its counts go
    // now (pool/day-tally.ts), not with the next flush.
    if (this.tally?.urgent(now)) waitUntil(this.tally.sync(now))
    if (this.buckets.size === 0 && this.requests.size === 0 && !this.ledger?.hasPending()) return
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
    await Promise.all([this.flushUsage(), this.ledger?.sync(), this.tally?.sync()])
  }

  private async flushUsage(): Promise<void> {
    if (this.dropped > 0) {
      log('stats_dropped', { events: this.dropped, reason: 'buffer_full' })
      this.dropped = 0
    }
    if (this.buckets.size === 0 && this.requests.size === 0) return
    const taken = this.take()
    try {
      // Retried here on contention (a busy D1, or a local SQLite file another process writes): the
      // last flush of a quiet isolate has no later request to carry its counts.
      await retryIdempotent(
        () => appendUsage(this.d1, [...taken.usage.values()], [...taken.requests.values()]),
        BUSY,
      )
    } catch (e) {
      const error = String(e).slice(0, 200)
      if (!TRANSIENT(e)) {
        // D1 refused the batch for what it holds (too big, malformed): retrying it would fail the
        // same way forever and keep every later count from being written. Drop it, say so.
        log('stats_dropped', { buckets: taken.usage.size, reason: 'refused', error })
        return
      }
      // D1 was busy or unreachable: put the counts back so the next flush carries them; nothing is
      // counted twice because the failed batch was one transaction.
      for (const [id, d] of taken.usage) this.merge(id, d)
      for (const r of taken.requests.values()) mergeRequests(this.requests, r)
      log('stats_flush_failed', { buckets: taken.usage.size, error })
    }
  }

  private merge(id: string, d: StatsDelta): void {
    if (!this.buckets.has(id) && this.buckets.size >= MAX_BUCKETS) {
      this.dropped += d.requests
      return
    }
    mergeInto(this.buckets, id, d)
  }
}

/** One provider and model's requests in one hour. */
export interface HourRequests {
  hour: number
  entry: RequestEntry
}

function renamed(entry: RequestEntry, model: string): RequestEntry {
  const copy = [...entry] as RequestEntry
  copy[1] = model
  return copy
}

/** Adds `r` to the same provider, model and hour in `into` (a copy of it when there is none). */
function mergeRequests(into: Map<string, HourRequests>, r: HourRequests): void {
  const id = `${r.entry[0]}|${r.entry[1]}|${r.hour}`
  const held = into.get(id)
  if (held) addEntry(held.entry, r.entry)
  else into.set(id, { hour: r.hour, entry: [...r.entry] as RequestEntry })
}

/** Adds `d` to the bucket `id` of `buckets` (a copy of it when there is none). */
function mergeInto(buckets: Map<string, StatsDelta>, id: string, d: StatsDelta): void {
  const b = buckets.get(id)
  if (!b) {
    buckets.set(id, { ...d })
    return
  }
  addCounts(b, d)
  b.lastUsed = Math.max(b.lastUsed, d.lastUsed)
  if (d.lastErrorAt !== null && (b.lastErrorAt === null || d.lastErrorAt > b.lastErrorAt)) {
    b.lastErrorAt = d.lastErrorAt
    b.lastErrorStatus = d.lastErrorStatus
    b.lastErrorReason = d.lastErrorReason
  }
}

const buffers = perIsolate<StatsBuffer>()

export const statsFor = (d1: D1Database, flushMs: number): StatsBuffer =>
  buffers(d1, () => new StatsBuffer(d1, flushMs, ledgerFor(d1, flushMs), tallyFor(d1, flushMs)))
