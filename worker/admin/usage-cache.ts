import { addCounts, zeroCounts, type Counts } from '../db/counts'
import { perIsolate } from '../db/per-isolate'
import { SharedRead, settleAll } from '../db/shared-read'
import { sampleRowsAfter, samplesByProvider, type SampleRow, type StateSample } from '../db/samples.repo'
import {
  parseLastError,
  providerUsageSince,
  usageSince,
  type ProviderTotals,
  type StatsRow,
} from '../db/stats.repo'
import { hourTotals, keyUsage, rowsIfSmall } from '../db/usage-tail.repo'
import { OlderPart } from './usage-older'
import { sumBatchRows } from './usage-sum'
import { hourStart, usageWindow, windowFrom, type Fold, type ModelHour } from './usage-window'

const WEEK_SECONDS = 7 * 24 * 3600

/** Where the week's pages start at `nowMs`: the hour seven days back. */
const weekFrom = (nowMs: number) => hourStart(Math.floor(nowMs / 1000) - WEEK_SECONDS)

/**
 * The dashboard's last-24-hours usage, per (hour, key, model), from the isolate's window
 * (usage-window.ts): counts show within STATS_FLUSH_SECONDS plus 2 s of the requests they count.
 */
export const recentUsage = (d1: D1Database, nowMs = Date.now()): Promise<StatsRow[]> =>
  usageWindow(d1).rows({ since: windowFrom(nowMs) }, nowMs)

/** The last 24 hours per (hour, provider, model), from the window: what the overview's cards show. */
export const recentByModel = (d1: D1Database, nowMs = Date.now()): Promise<ModelHour[]> =>
  usageWindow(d1).summary(windowFrom(nowMs), nowMs)

/**
 * Usage per (hour, key, model) from `since`: from the window when it reaches that far back (every
 * page but the week's), otherwise summed in D1 as an export is.
 */
export async function usageFrom(
  d1: D1Database,
  filter: { since: number; provider?: string | undefined; keyId?: number | undefined },
  nowMs = Date.now(),
): Promise<StatsRow[]> {
  const since = hourStart(filter.since)
  if (since >= windowFrom(nowMs)) return usageWindow(d1).rows({ ...filter, since }, nowMs)
  return usageSince(d1, { ...filter, since })
}

type ProviderHour = { provider: string; hour: number } & Counts

/** Sums rows (per key and model, or already per provider) into one per (hour, provider). */
function byProviderHour(rows: ProviderHour[]): Map<string, ProviderHour> {
  const into = new Map<string, ProviderHour>()
  for (const r of rows) {
    const id = `${r.hour}|${r.provider}`
    let p = into.get(id)
    if (!p) into.set(id, (p = { provider: r.provider, hour: r.hour, ...zeroCounts() }))
    addCounts(p, r)
  }
  return into
}

/** The hours' totals compaction wrote, as ProviderHour rows. */
function fromTotals(rows: { hour: number; totals: string }[]): ProviderHour[] {
  return rows.flatMap(({ hour, totals }) =>
    Object.entries(JSON.parse(totals) as ProviderTotals).map(([provider, t]) => ({
      provider,
      hour,
      requests: t[0] ?? 0,
      successes: t[1] ?? 0,
      rateLimited: t[2] ?? 0,
      errors: t[3] ?? 0,
      inputTokens: t[4] ?? 0,
      outputTokens: t[5] ?? 0,
      cachedTokens: t[6] ?? 0,
    })),
  )
}

const providerWeeks = perIsolate<OlderPart<ProviderHour>>()

/** The overview's 7-day usage per provider and hour: the window's day and the six before it. */
export async function weekUsage(d1: D1Database, nowMs = Date.now()): Promise<ProviderHour[]> {
  const window = usageWindow(d1)
  const older = providerWeeks(
    d1,
    () =>
      new OlderPart(
        window,
        async (since, until) => {
          const { totals, uncovered } = await hourTotals(d1, since, until)
          const rest = uncovered ? sumBatchRows(uncovered) : await providerUsageSince(d1, since, until, true)
          // An hour's totals and a flush that came after them add up.
          return [...byProviderHour([...fromTotals(totals), ...rest]).values()]
        },
        (_hour, rows) => [...byProviderHour(rows).values()],
      ),
  )
  // The window's day from its per-model sums, not from every key's rows.
  const [before, recent] = await settleAll([older.rows(weekFrom(nowMs), nowMs), window.summary(0, nowMs)])
  return [...before, ...byProviderHour(recent).values()]
}

/** Keys whose week an isolate keeps (a detail page each): the most recently opened. */
const KEY_WEEKS_KEPT = 8
const keyWeeks = perIsolate<Map<number, OlderPart<StatsRow>>>()

/** One key's usage per (hour, model) over seven days: its detail page. */
export async function keyWeek(d1: D1Database, keyId: number, nowMs = Date.now()): Promise<StatsRow[]> {
  const window = usageWindow(d1)
  const kept = keyWeeks(d1, () => new Map())
  let older = kept.get(keyId)
  if (older) kept.delete(keyId)
  else {
    older = new OlderPart(
      window,
      async (since, until) => {
        const own = await keyUsage(d1, keyId, since, until)
        if (own) return sumBatchRows(own)
        const rows = await rowsIfSmall(d1, since, until)
        return rows ? sumBatchRows(rows, (r) => r.keyId === keyId) : usageSince(d1, { since, until, keyId })
      },
      (_hour, rows) => rows.filter((r) => r.keyId === keyId),
    )
  }
  kept.set(keyId, older) // last in the map: the most recently used
  for (const [id, part] of kept) {
    if (kept.size <= KEY_WEEKS_KEPT) break
    part.release()
    kept.delete(id)
  }
  const [before, recent] = await settleAll([
    older.rows(weekFrom(nowMs), nowMs),
    window.rows({ keyId }, nowMs),
  ])
  return [...before, ...recent]
}

/**
 * The cron's key-state samples of the last 7 days, kept in this isolate: after the first call reads
 * the week (about 1,000 rows), each call reads only the samples written since the newest it holds,
 * at most every 2 s: about one row per 10 minutes, however long a dashboard stays open.
 */
class SampleHistory {
  private rows: SampleRow[] = []
  private readAt = 0
  private readonly reading = new SharedRead()

  constructor(private readonly d1: D1Database) {}

  async get(now: number): Promise<Map<string, StateSample[]>> {
    if (now - this.readAt >= 2_000) {
      // Concurrent admin calls share one read.
      await this.reading.join(() => this.read(now), now)
    }
    return samplesByProvider(this.rows)
  }

  private async read(now: number): Promise<void> {
    const from = Math.floor(now / 1000) - WEEK_SECONDS
    const newest = this.rows.at(-1)?.at ?? from - 1
    const fresh = await sampleRowsAfter(this.d1, Math.max(newest, from - 1))
    this.rows = [...this.rows.filter((r) => r.at >= from), ...fresh]
    this.readAt = now
  }
}

const histories = perIsolate<SampleHistory>()

export function weekSamples(d1: D1Database, now = Date.now()): Promise<Map<string, StateSample[]>> {
  return histories(d1, () => new SampleHistory(d1)).get(now)
}

export interface KeyUsage extends Counts {
  lastUsed: number | null
  lastError: { at: number; status: number; reason: string } | null
}

export const NO_USAGE: Readonly<KeyUsage> = { ...zeroCounts(), lastUsed: null, lastError: null }

/** Adds a usage row to its key's figure, keeping the key's latest use and latest error. */
function addKeyUsage(byKey: Map<number, KeyUsage>, r: StatsRow): void {
  let u = byKey.get(r.keyId)
  if (!u) byKey.set(r.keyId, (u = { ...NO_USAGE }))
  addCounts(u, r)
  u.lastUsed = Math.max(u.lastUsed ?? 0, r.lastUsed ?? 0) || null
  const e = parseLastError(r.lastError)
  if (e && (!u.lastError || e.at >= u.lastError.at)) u.lastError = e
}

/** Folds usage rows into one figure per key, keeping its latest use and latest error. */
export function usageByKey(rows: StatsRow[]): Map<number, KeyUsage> {
  const byKey = new Map<number, KeyUsage>()
  for (const r of rows) addKeyUsage(byKey, r)
  return byKey
}

const BY_KEY: Fold<Map<number, KeyUsage>> = {
  name: 'by-key',
  empty: () => new Map(),
  add: addKeyUsage,
  // The error objects are never changed once made, so the copy shares them.
  copy: (value) => new Map([...value].map(([id, u]) => [id, { ...u }])),
}

/** The last 24 hours per key, as the keys page shows them (usageByKey over recentUsage's rows). */
export const recentByKey = (d1: D1Database, nowMs = Date.now()): Promise<Map<number, KeyUsage>> =>
  usageWindow(d1).fold(BY_KEY, windowFrom(nowMs), nowMs)

/** Requests per model and key. */
export type CountedRequests = Map<string, Map<number, number>>

/**
 * One provider's requests per model and key from `since` (an hour start within the window), those
 * it refused with 429 left out: what a provider counts against a daily quota.
 */
export function countedSince(
  d1: D1Database,
  provider: string,
  since: number,
  nowMs = Date.now(),
): Promise<CountedRequests> {
  return usageWindow(d1).fold<CountedRequests>(
    {
      name: `counted|${provider}`,
      empty: () => new Map(),
      add(into, r) {
        if (r.provider !== provider) return
        let byKey = into.get(r.model)
        if (!byKey) into.set(r.model, (byKey = new Map()))
        byKey.set(r.keyId, (byKey.get(r.keyId) ?? 0) + r.requests - r.rateLimited)
      },
      copy: (value) => new Map([...value].map(([model, byKey]) => [model, new Map(byKey)])),
    },
    hourStart(since),
    nowMs,
  )
}
