import type { Config, Selection } from '../config'
import { perIsolate } from '../db/per-isolate'
import { changedSince, loadProviderPool } from '../db/pool.repo'
import { ANY_ERROR, retryIdempotent } from '../db/retry'
import { SharedRead } from '../db/shared-read'
import type { PoolRow } from '../db/rows'
import { FULL_RELOAD_MS } from '../db/tombstones'
import { AppError } from '../http/errors'
import type { ProviderId } from '../providers/types'
import { log } from '../log'
import { ProviderView } from './view'

/** How soon a view refreshes after its isolate met a limit (see nudge). */
const NUDGED_REFRESH_MS = 1000

/**
 * The per-isolate view of every provider's pool. The request path reads D1 only to build a view the
 * first time and, at most once per refresh interval, to fetch rows changed since (in the background:
 * the request that notices staleness is served from the view it already has). Success writes nothing.
 * Changes to keys go through KeyState (key-state.ts), which keeps these views right.
 */
export class Pool {
  private readonly views = new Map<ProviderId, ProviderView>()
  private readonly loading = new Map<ProviderId, SharedRead<ProviderView>>()

  constructor(
    private readonly db: D1Database,
    private readonly refreshMs: number,
    private readonly selection: Selection,
    private readonly stormMs: number,
  ) {}

  async view(
    provider: ProviderId,
    waitUntil: (p: Promise<unknown>) => void,
    now = Date.now(),
  ): Promise<ProviderView> {
    const view = this.views.get(provider)
    if (!view || now - view.loadedAt > FULL_RELOAD_MS) {
      try {
        return await this.load(provider, now, waitUntil)
      } catch (e) {
        if (view) return view // D1 unavailable: keep serving what this isolate knows
        log('pool_refresh_failed', { provider, error: errorName(e) })
        throw new AppError(503, 'storage_unavailable', 'The key store is unavailable; try again shortly')
      }
    }
    // This isolate changed the pool itself (admin API): every request must see the change, so all
    // that arrive meanwhile wait for the same sync. A refresh already in flight may have read before
    // the change: the sync waits for it, then reads again.
    let sync = view.syncing.current(now)
    if (!sync && view.stale) {
      view.stale = false
      const read = async () => {
        await view.refreshing.current(now)
        await this.refresh(provider, view, now)
      }
      sync = view.syncing.start(read, now, waitUntil)
    }
    if (sync) {
      await sync
      return view
    }
    // A nudged view (this isolate just met a limit, so others likely have too) refreshes within a
    // second instead of the interval: a storm costs one read a second per isolate, not one per 429.
    const interval = view.nudged ? Math.min(NUDGED_REFRESH_MS, this.refreshMs) : this.refreshMs
    if (now - view.refreshedAt >= interval && !view.refreshing.current(now)) {
      view.nudged = false
      void this.startRefresh(provider, view, now, waitUntil)
    }
    return view
  }

  /** The provider's view if this isolate has loaded one (state changes apply to it at once). */
  loaded(provider: ProviderId): ProviderView | undefined {
    return this.views.get(provider)
  }

  /** A row returned by a write: the loaded view takes it without waiting for a refresh. */
  apply(row: PoolRow): void {
    this.views.get(row.provider)?.applyRows([row])
  }

  /**
   * Reads what changed now, unless the view was refreshed in the last `ms` (a storm costs one read
   * per isolate per `ms`, however many 429s it meets). A refresh already running is waited for.
   */
  async refreshIfOlder(
    provider: ProviderId,
    ms: number,
    waitUntil: (p: Promise<unknown>) => void,
    now = Date.now(),
  ): Promise<void> {
    const view = this.views.get(provider)
    if (!view) return
    const running = view.refreshing.current(now)
    if (running) return running
    if (now - view.refreshedAt < ms) return
    return this.startRefresh(provider, view, now, waitUntil)
  }

  /** This isolate learned a key's limit: read what other isolates learned soon too. */
  nudge(provider: ProviderId): void {
    const view = this.views.get(provider)
    if (view) view.nudged = true
  }

  /** After a change the write did not return rows for: the next request refreshes before it picks. */
  invalidate(provider?: ProviderId): void {
    for (const [id, view] of this.views) if (!provider || id === provider) view.stale = true
  }

  /** Concurrent cold requests share one load (see SharedRead), which outlives the one that started it. */
  private load(
    provider: ProviderId,
    now: number,
    waitUntil: (p: Promise<unknown>) => void,
  ): Promise<ProviderView> {
    let loading = this.loading.get(provider)
    if (!loading) this.loading.set(provider, (loading = new SharedRead<ProviderView>()))
    const read = async () => {
      const { rows, maxSeq } = await retryIdempotent(() => loadProviderPool(this.db, provider), ANY_ERROR)
      const view = new ProviderView(rows, maxSeq, now, this.selection, this.stormMs)
      this.views.set(provider, view)
      return view
    }
    return loading.join(read, now, waitUntil)
  }

  /**
   * A refresh other requests of this isolate will wait for, handed to the starting request's
   * waitUntil (see SharedRead). Before it was, a catch-up read that outlived its request (which
   * waits for it a second at most) could leave an isolate blind to every other isolate's lessons for
   * the rest of an 8-isolate benchmark storm (9 of 40 traced runs).
   */
  private startRefresh(
    provider: ProviderId,
    view: ProviderView,
    now: number,
    waitUntil: (p: Promise<unknown>) => void,
  ): Promise<void> {
    return view.refreshing.start(() => this.refresh(provider, view, now), now, waitUntil)
  }

  private async refresh(provider: ProviderId, view: ProviderView, now: number): Promise<void> {
    try {
      const rows = await retryIdempotent(() => changedSince(this.db, provider, view.maxSeq), ANY_ERROR)
      view.applyRows(rows)
      // Only rows read here move the cursor: our own writes' seqs could skip a concurrent writer's.
      for (const r of rows) view.maxSeq = Math.max(view.maxSeq, r.seq)
      view.refreshedAt = Math.max(view.refreshedAt, now)
    } catch (e) {
      // Keep serving the view we have; the next request tries again after the interval.
      view.refreshedAt = Math.max(view.refreshedAt, now)
      log('pool_refresh_failed', { provider, error: errorName(e) })
    }
  }
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.message.slice(0, 200) : 'unknown'
}

const pools = perIsolate<Pool>()

export const poolFor = (
  d1: D1Database,
  config: Pick<Config, 'poolRefreshMs' | 'selection' | 'stormMs'>,
): Pool => pools(d1, () => new Pool(d1, config.poolRefreshMs, config.selection, config.stormMs))
