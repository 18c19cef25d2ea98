import type { IssuedClient } from '../auth/auth-key'
import { addClientUsage, clientTotals, type PeriodTotals } from '../db/clients.repo'
import { perIsolate } from '../db/per-isolate'
import { ANY_ERROR, retryIdempotent } from '../db/retry'
import { SharedRead } from '../db/shared-read'
import { AppError } from '../http/errors'
import { log } from '../log'
import {
  addTotals,
  dayEnd,
  dayPeriod,
  monthEnd,
  monthPeriod,
  QUOTA_CODES,
  tokensOf,
  zeroTotals,
  type QuotaName,
  type Totals,
} from './quotas'

/**
 * Near a daily or monthly quota, an isolate may count at most 1 / (SHARE × peers) of what D1 last said
 * was left before it adds its counts and reads everyone's back, where peers is how many isolates it
 * has seen serving the client. Together the isolates then admit about 1 / SHARE of what was left
 * between two looks, which shrinks to a request or so each as the quota runs out. An isolate far from
 * a quota writes only with the usage flush (STATS_FLUSH_SECONDS); near one, every few requests. Measured
 * in `pnpm bench quotas` (docs/benchmarks.md): with 8 isolates, SHARE 8 let 16 % past, 16 lets 1 %.
 */
const SHARE = 16

/** Isolates assumed to serve a client until a sync shows how many do (see ClientCounts.peers). */
const ASSUMED_PEERS = 8

interface ClientCounts {
  /** period → counted here, not yet sent. */
  pending: Map<string, Totals>
  /** period → sent, not yet confirmed (a sync in flight). */
  inflight: Map<string, Totals>
  /** period → D1's totals as the last sync returned them (every isolate's sent counts). */
  remote: Map<string, Totals>
  /** Unix ms of the last sync that read this client's totals. */
  syncedAt: number
  /** Requests per minute, counted here only: two clock minutes, weighed as the throttle does. */
  minute: { start: number; count: number; previous: number }
  /**
   * How many isolates (this one included) are serving this client, as this one last saw it: what
   * the others added between two of its syncs, against what it added itself. Until a sync shows it,
   * ASSUMED_PEERS, so isolates that start together do not each take a large part of the quota.
   */
  peers: number
}

const sum =
  (...maps: Map<string, Totals>[]) =>
  (period: string) =>
    maps.reduce((t, m) => {
      const v = m.get(period)
      return v ? addTotals(t, v) : t
    }, zeroTotals())

/**
 * Each client key's usage in this isolate, and its quotas checked against it: counted in memory,
 * added to D1 (`client_usage`) with the usage flush, which returns every isolate's totals in the same
 * statement. The request path reads D1 only for a client this isolate has not synced within
 * STATS_FLUSH_SECONDS (two rows, its day and month), and writes only near a quota (see SHARE).
 */
export class ClientLedger {
  private readonly counts = new Map<number, ClientCounts>()
  private readonly syncing = new SharedRead<void>()

  constructor(
    private readonly db: D1Database,
    private readonly flushMs: number,
  ) {}

  hasPending(): boolean {
    for (const c of this.counts.values()) if (c.pending.size > 0) return true
    return false
  }

  /**
   * Admits one request of `client`, or throws 429 with the spent quota's code and when it resets.
   * An admitted request is counted at once (a quota counts requests sent, whatever they answer).
   */
  async admit(client: IssuedClient, now: number, waitUntil: (p: Promise<unknown>) => void): Promise<void> {
    const q = client.quotas
    const c = this.of(client.id)
    const totalsMatter =
      q.requestsPerDay !== undefined || q.tokensPerDay !== undefined || q.tokensPerMonth !== undefined
    if (totalsMatter && (now - c.syncedAt >= this.flushMs || dayPeriod(c.syncedAt) !== dayPeriod(now))) {
      await this.sync(now, waitUntil, [client.id])
    }
    this.check(client, c, now)
    // Past its share, an isolate sends its counts and reads everyone's before it admits more. A sync
    // already running may not carry the counts this isolate added since it began (requests admitted
    // while it ran): then one more, so no isolate goes on admitting on what it last saw.
    for (let round = 0; totalsMatter && round < 2 && this.pastAllowance(client, c, now); round++) {
      await this.sync(now, waitUntil, [], true)
      this.check(client, c, now)
    }
    this.count(c, now, { ...zeroTotals(), requests: 1 })
    const m = this.minuteOf(c, now)
    m.count++
  }

  /** Tokens of an answer, counted against the client's token quotas from the next request on. */
  countTokens(clientId: number, tokens: Omit<Totals, 'requests'>, now = Date.now()): void {
    this.count(this.of(clientId), now, { requests: 0, ...tokens })
  }

  /**
   * Sends every pending count and reads back the totals of every client it touched (and of `read`),
   * in one round of statements. Concurrent callers share the sync in flight; one that needs a client
   * the running sync does not read waits for it and starts another.
   */
  async sync(
    now = Date.now(),
    waitUntil?: (p: Promise<unknown>) => void,
    read: number[] = [],
    /** A sync that starts after the call (one already running is waited for, then another joined). */
    fresh = false,
  ): Promise<void> {
    const running = this.syncing.current(now)
    if (running) {
      await running
      const synced = read.every((id) => now - (this.counts.get(id)?.syncedAt ?? -Infinity) < this.flushMs)
      if (synced && !fresh) return
    }
    return this.syncing.join(() => this.syncNow(now, read), now, waitUntil)
  }

  private async syncNow(now: number, read: number[]): Promise<void> {
    const deltas: PeriodTotals[] = []
    for (const [clientId, c] of this.counts) {
      for (const [period, t] of c.pending) {
        deltas.push({ clientId, period, ...t })
        c.inflight.set(period, addTotals(c.inflight.get(period) ?? zeroTotals(), t))
      }
      c.pending = new Map()
    }
    const periods = [dayPeriod(now), monthPeriod(now)]
    const toRead = read.filter((id) => !deltas.some((d) => d.clientId === id))
    try {
      // A busy D1 committed nothing of the batch (one transaction): adding it again is safe.
      const [added, readBack] = await Promise.all([
        retryIdempotent(() => addClientUsage(this.db, deltas)),
        retryIdempotent(() => clientTotals(this.db, toRead, periods), ANY_ERROR),
      ])
      this.learnPeers(deltas, added, dayPeriod(now))
      const touched = new Set([...deltas.map((d) => d.clientId), ...toRead])
      for (const id of touched) {
        const c = this.of(id)
        c.inflight = new Map()
        c.syncedAt = Math.max(c.syncedAt, now)
        // What D1 returns is the truth for these periods; a period with no row has no use yet.
        for (const p of periods) if (!c.remote.has(p) || toRead.includes(id)) c.remote.set(p, zeroTotals())
        for (const p of c.remote.keys()) if (!periods.includes(p)) c.remote.delete(p)
      }
      for (const row of [...added, ...readBack]) {
        if (!periods.includes(row.period)) continue
        const { clientId, period, ...totals } = row
        this.of(clientId).remote.set(period, totals)
      }
    } catch (e) {
      // Nothing was added (one transaction): the counts go back, to be sent with the next sync.
      for (const c of this.counts.values()) {
        for (const [period, t] of c.inflight)
          c.pending.set(period, addTotals(c.pending.get(period) ?? zeroTotals(), t))
        c.inflight = new Map()
      }
      log('client_usage_sync_failed', { error: String(e).slice(0, 200) })
    }
  }

  /**
   * Each client's peers, from one sync: D1's new day total minus the total this isolate saw before
   * and minus what it sent is what every other isolate added meanwhile.
   */
  private learnPeers(sent: PeriodTotals[], added: PeriodTotals[], day: string): void {
    for (const d of sent) {
      if (d.period !== day || d.requests === 0) continue
      const c = this.of(d.clientId)
      const before = c.remote.get(day)
      const after = added.find((a) => a.clientId === d.clientId && a.period === day)
      if (!before || !after || c.syncedAt === -Infinity) continue
      const others = Math.max(0, after.requests - before.requests - d.requests)
      c.peers = Math.min(64, Math.max(1, Math.round(1 + others / d.requests)))
    }
  }

  private of(clientId: number): ClientCounts {
    let c = this.counts.get(clientId)
    if (!c) {
      c = {
        pending: new Map(),
        inflight: new Map(),
        remote: new Map(),
        syncedAt: -Infinity,
        minute: { start: 0, count: 0, previous: 0 },
        peers: ASSUMED_PEERS,
      }
      this.counts.set(clientId, c)
    }
    return c
  }

  private count(c: ClientCounts, now: number, d: Totals): void {
    for (const period of [dayPeriod(now), monthPeriod(now)]) {
      c.pending.set(period, addTotals(c.pending.get(period) ?? zeroTotals(), d))
    }
  }

  private minuteOf(c: ClientCounts, now: number): ClientCounts['minute'] {
    const start = now - (now % 60_000)
    if (c.minute.start !== start) {
      const previous = start - c.minute.start === 60_000 ? c.minute.count : 0
      c.minute = { start, count: 0, previous }
    }
    return c.minute
  }

  /** Throws 429 for the first quota the next request would exceed. */
  private check(client: IssuedClient, c: ClientCounts, now: number): void {
    const q = client.quotas
    if (q.requestsPerMinute !== undefined) {
      const m = this.minuteOf(c, now)
      const used = m.count + m.previous * (1 - (now - m.start) / 60_000)
      if (used >= q.requestsPerMinute) {
        throw spent('requestsPerMinute', q.requestsPerMinute, 'requests per minute', m.start + 60_000 - now)
      }
    }
    const total = sum(c.remote, c.inflight, c.pending)
    const day = total(dayPeriod(now))
    if (q.requestsPerDay !== undefined && day.requests >= q.requestsPerDay) {
      throw spent('requestsPerDay', q.requestsPerDay, 'requests per day (UTC)', dayEnd(now) - now)
    }
    if (q.tokensPerDay !== undefined && tokensOf(day) >= q.tokensPerDay) {
      throw spent('tokensPerDay', q.tokensPerDay, 'tokens per day (UTC)', dayEnd(now) - now)
    }
    if (q.tokensPerMonth !== undefined && tokensOf(total(monthPeriod(now))) >= q.tokensPerMonth) {
      throw spent('tokensPerMonth', q.tokensPerMonth, 'tokens per month (UTC)', monthEnd(now) - now)
    }
  }

  /** Whether this isolate has counted its share of what was left at the last sync (see SHARE). */
  private pastAllowance(client: IssuedClient, c: ClientCounts, now: number): boolean {
    const q = client.quotas
    const unsent = sum(c.inflight, c.pending)
    const remote = sum(c.remote)
    const share = SHARE * c.peers
    const over = (limit: number | undefined, used: number, mine: number) =>
      limit !== undefined && mine >= Math.max(1, Math.floor((limit - used) / share))
    const day = dayPeriod(now)
    const month = monthPeriod(now)
    return (
      over(q.requestsPerDay, remote(day).requests, unsent(day).requests) ||
      over(q.tokensPerDay, tokensOf(remote(day)), tokensOf(unsent(day))) ||
      over(q.tokensPerMonth, tokensOf(remote(month)), tokensOf(unsent(month)))
    )
  }
}

function spent(name: QuotaName, limit: number, what: string, resetsInMs: number): AppError {
  const seconds = Math.max(1, Math.ceil(resetsInMs / 1000))
  return new AppError(
    429,
    QUOTA_CODES[name],
    `This client key has used its quota of ${limit} ${what}; it resets in ${describeWait(seconds)}`,
    { 'retry-after': String(seconds) },
  )
}

function describeWait(seconds: number): string {
  if (seconds < 120) return `${seconds} s`
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`
  return `${Math.round(seconds / 86_400)} days`
}

const ledgers = perIsolate<ClientLedger>()

export const ledgerFor = (d1: D1Database, flushMs: number): ClientLedger =>
  ledgers(d1, () => new ClientLedger(d1, flushMs))
