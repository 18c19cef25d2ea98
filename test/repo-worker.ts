/**
 * A test-only Worker that runs the storage functions inside workerd, against its D1, exactly as the
 * real Worker calls them, and reports the D1 rows each call read and wrote. Tests call it over HTTP,
 * rather than through Miniflare's Node-side D1 proxy, whose synchronous calls are not safe when
 * several are in flight at once.
 */
import { deleteKeys, insertKeys, type NewKeys } from '../worker/db/admin.repo'
import { Vault } from '../worker/db/vault'
import type { ProviderId } from '../worker/providers/types'
import { d1Usage } from '../worker/db/meter'
import { blockKey, changedSince, loadProviderPool, setCooldown } from '../worker/db/pool.repo'
import { samplePoolStates, sampleRowsAfter, samplesByProvider } from '../worker/db/samples.repo'
import {
  appendUsage,
  compactUsage,
  parseLastError,
  providerUsageSince,
  usageSince,
  type UsageEntry,
} from '../worker/db/stats.repo'
import { foldMetrics, foldedThrough } from '../worker/db/metrics.repo'
import { syncDayTally } from '../worker/db/day-tally.repo'
import { DayTally, dayOf } from '../worker/pool/day-tally'
import type { PoolKey } from '../worker/pool/view'
import { GOOGLE_FREE_TIER } from '../worker/providers/google-limits'
import {
  countedSince,
  keyWeek,
  recentByKey,
  recentByModel,
  recentUsage,
  usageByKey,
  weekUsage,
} from '../worker/admin/usage-cache'

type Fn = (d1: D1Database, ...args: never[]) => Promise<unknown>

const SECRET = 'repo-worker-encryption-key-0123456789abcdef'
const vault = new Vault(SECRET)

const functions: Record<string, Fn> = {
  blockKey,
  changedSince,
  loadProviderPool,
  setCooldown,
  samplePoolStates,
  /** The samples as plain JSON (a Map does not cross the wire). */
  samplesSince: async (d1: D1Database, since: number) =>
    Object.fromEntries(samplesByProvider(await sampleRowsAfter(d1, since - 1))),
  /** Plain keys in, sealed as the Worker seals them. */
  insertKeys: async (
    d1: D1Database,
    input: Omit<NewKeys, 'keys' | 'unsealedRemain'> & { keys: string[] },
  ) => {
    const keys = await Promise.all(
      input.keys.map(async (plain) => ({
        plain,
        sealed: await vault.seal(plain),
        fingerprint: await vault.fingerprint(input.provider, plain),
      })),
    )
    return insertKeys(d1, { ...input, keys, unsealedRemain: false })
  },
  deleteKeys,
  /** Loads a provider's pool and opens every key in it: what opening keys eagerly would cost. */
  openAll: async (d1: D1Database, provider: ProviderId) => {
    const { rows } = await loadProviderPool(d1, provider)
    const fresh = new Vault(SECRET) // nothing opened yet
    const opened = await Promise.all(rows.map((r) => fresh.open(r.key)))
    return opened.length
  },
  /** Loads a provider's pool and opens one key: what a cold isolate's first request does. */
  openFirst: async (d1: D1Database, provider: ProviderId) => {
    const { rows } = await loadProviderPool(d1, provider)
    return new Vault(SECRET).open((rows[0] as { key: string }).key)
  },
  /** A stored (sealed) key as the provider knows it. */
  openKey: (_d1: D1Database, stored: string) => vault.open(stored),
  /** Reads one key row as stored. */
  row: (d1: D1Database, id: number) => d1.prepare('SELECT * FROM keys WHERE id = ?1').bind(id).first(),
  sql: async (d1: D1Database, query: string) => (await d1.prepare(query).all()).results,
  /** The dashboard's usage reads as the admin API makes them, at a given time (ms). */
  recentUsage,
  recentByModel,
  weekUsage,
  keyWeek,
  /** The keys page's figures per key: kept folded, and summed again from the rows (the same at any time). */
  recentByKey: async (d1: D1Database, ms: number) => Object.fromEntries(await recentByKey(d1, ms)),
  recentByKeySummed: async (d1: D1Database, ms: number) =>
    Object.fromEntries(usageByKey(await recentUsage(d1, ms))),
  /** The quota-left call's requests per model and key from `since`. */
  countedSince: async (d1: D1Database, provider: string, since: number, ms: number) =>
    Object.fromEntries(
      [...(await countedSince(d1, provider, since, ms))].map(([model, byKey]) => [
        model,
        Object.fromEntries(byKey),
      ]),
    ),
  /** Usage entries of one hour written as a flush writes them (stats.repo.ts appendUsage). */
  flushEntries: (d1: D1Database, hour: number, entries: UsageEntry[]) =>
    appendUsage(
      d1,
      entries.map((e) => {
        const error = parseLastError(e[8])
        return {
          keyId: e[0],
          provider: e[1],
          model: e[2],
          hour,
          requests: e[3],
          successes: e[4],
          rateLimited: e[5],
          errors: e[6],
          lastUsed: e[7],
          lastErrorAt: error?.at ?? null,
          lastErrorStatus: error?.status ?? null,
          lastErrorReason: error?.reason ?? null,
          inputTokens: e[9],
          outputTokens: e[10],
          cachedTokens: e[11],
        }
      }),
    ),
  /** A day tally sync (pool/day-tally.ts) with plain objects for the Maps. */
  syncDayTally: async (d1: D1Database, provider: string, day: string, deltas: Record<string, number>) => {
    const read = await syncDayTally(d1, provider, day, new Map(Object.entries(deltas)))
    return { counts: Object.fromEntries(read.counts), overrides: read.overrides }
  },
  /**
   * One isolate's tally (pool/day-tally.ts) reading the row twice, `gapMs` apart, while another
   * isolate adds `others` to key 1's count in between; then whether a pick would read the row first
   * (freshen), i.e. whether the project counts as near its figure. Times are passed in.
   */
  tallyNear: async (d1: D1Database, start: number, first: number, others: number, gapMs: number) => {
    const model = 'gemini-2.5-flash'
    const day = dayOf(GOOGLE_FREE_TIER, start)
    await syncDayTally(d1, 'google-ai-studio', day, new Map([[`${model}|1`, first]]))
    const tally = new DayTally(d1, 60_000)
    const keys = { generation: 1, keys: () => [{ id: 1, group: null } as PoolKey] }
    const none = () => undefined
    await tally.freshen('google-ai-studio', model, keys, start, none) // a cold isolate's first read
    await syncDayTally(d1, 'google-ai-studio', day, new Map([[`${model}|1`, others]]))
    tally.count('google-ai-studio', model, 1, start + gapMs - 1)
    await tally.sync(start + gapMs) // the usage flush: its count sent, everyone's read
    return tally.freshen('google-ai-studio', model, keys, start + gapMs + 1500, none) !== undefined
  },
  /** The same sums straight from D1, to hold them to. */
  usageSince,
  providerUsageSince,
  /**
   * What the cron does to usage rows (health/scheduled.ts): fold them into the metrics, then compact
   * finished hours up to the mark the run before left.
   */
  cronUsage: async (d1: D1Database, beforeHour: number) => {
    const previous = await foldedThrough(d1)
    await foldMetrics(d1, false)
    return compactUsage(d1, beforeHour, previous)
  },
}

export default {
  async fetch(request: Request, env: { DB: D1Database }): Promise<Response> {
    const calls = (await request.json()) as { fn: string; args: unknown[] }[]
    const before = { ...d1Usage }
    // Several calls in one request run concurrently, as concurrent requests' writes would.
    const results = await Promise.all(
      calls.map((c) => (functions[c.fn] as Fn)(env.DB, ...(c.args as never[]))),
    )
    return Response.json({
      results,
      usage: {
        queries: d1Usage.queries - before.queries,
        rowsRead: d1Usage.rowsRead - before.rowsRead,
        rowsWritten: d1Usage.rowsWritten - before.rowsWritten,
      },
    })
  },
}
