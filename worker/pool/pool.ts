import { perIsolate } from '../db/per-isolate'
import { blockKey, changedSince, loadProviderPool, setCooldown } from '../db/pool.repo'
import { AppError } from '../http/errors'
import { log } from '../log'
import { ProviderView } from './view'

/**
 * After this long an isolate reloads a provider's pool in full rather than incrementally, so that
 * tombstones can eventually be purged without an old isolate missing a deletion.
 */
const FULL_RELOAD_MS = 6 * 3600 * 1000

/**
 * The per-isolate view of every provider's pool. The request path reads D1 only to build a view the
 * first time and, at most once per refresh interval, to fetch rows changed since (in the background:
 * the request that notices staleness is served from the view it already has). Success writes nothing.
 */
export class Pool {
  private readonly views = new Map<string, ProviderView>()
  private readonly loading = new Map<string, Promise<ProviderView>>()

  constructor(
    private readonly db: D1Database,
    private readonly refreshMs: number,
  ) {}

  async view(
    provider: string,
    waitUntil: (p: Promise<unknown>) => void,
    now = Date.now(),
  ): Promise<ProviderView> {
    const view = this.views.get(provider)
    if (!view || now - view.loadedAt > FULL_RELOAD_MS) {
      try {
        return await this.load(provider, now)
      } catch (e) {
        if (view) return view // D1 unavailable: keep serving what this isolate knows
        log('pool_refresh_failed', { provider, error: errorName(e) })
        throw new AppError(503, 'storage_unavailable', 'The key store is unavailable; try again shortly')
      }
    }
    if (view.stale || view.syncing) {
      // This isolate changed the pool itself (admin API): every request must see the change, so
      // all that arrive meanwhile wait for the same sync. A refresh already in flight may have read
      // before the change: the sync waits for it, then reads again.
      if (!view.syncing) {
        view.stale = false
        view.syncing = (async () => {
          if (view.refreshing) await view.refreshing
          await this.refresh(provider, view, now)
        })().finally(() => (view.syncing = undefined))
      }
      await view.syncing
      return view
    }
    if (now - view.refreshedAt >= this.refreshMs && !view.refreshing) {
      view.refreshing = this.refresh(provider, view, now).finally(() => (view.refreshing = undefined))
      waitUntil(view.refreshing)
    }
    return view
  }

  /** Concurrent cold requests share one load. */
  private load(provider: string, now: number): Promise<ProviderView> {
    let pending = this.loading.get(provider)
    if (!pending) {
      pending = retryIdempotent(() => loadProviderPool(this.db, provider), ANY_ERROR)
        .then(({ rows, maxSeq }) => {
          const view = new ProviderView(rows, maxSeq, now)
          this.views.set(provider, view)
          return view
        })
        .finally(() => this.loading.delete(provider))
      this.loading.set(provider, pending)
    }
    return pending
  }

  private async refresh(provider: string, view: ProviderView, now: number): Promise<void> {
    try {
      const rows = await retryIdempotent(() => changedSince(this.db, provider, view.maxSeq), ANY_ERROR)
      view.applyRows(rows)
      // Only rows read here move the cursor: our own writes' seqs could skip a concurrent writer's.
      for (const r of rows) view.maxSeq = Math.max(view.maxSeq, r.seq)
      view.refreshedAt = now
    } catch (e) {
      // Keep serving the view we have; the next request tries again after the interval.
      view.refreshedAt = now
      log('pool_refresh_failed', { provider, error: errorName(e) })
    }
  }

  /** After an admin change in this isolate: the next request refreshes before it picks a key. */
  invalidate(provider?: string): void {
    for (const [id, view] of this.views) if (!provider || id === provider) view.stale = true
  }

  /** Records a cooldown in D1 and in this isolate's view at once. */
  async coolDown(view: ProviderView, id: number, model: string, until: number): Promise<void> {
    view.applyLocalCooldown(id, model, until)
    const row = await retryIdempotent(() => setCooldown(this.db, id, model, until))
    if (row) view.applyRows([row])
  }

  async block(view: ProviderView, id: number, reason: string, at: number): Promise<void> {
    view.applyLocalBlock(id)
    const row = await retryIdempotent(() => blockKey(this.db, id, reason, at))
    if (row) view.applyRows([row])
  }
}

const RETRY_DELAYS_MS = [20, 50, 100, 200, 400, 800]

/**
 * D1 answers "overloaded" (and a shared local SQLite file "SQLITE_BUSY") under contention. Reads are
 * safe to repeat, and so are our writes (max-merge, `WHERE status = 'active'`): a retry cannot apply
 * a change twice.
 */
/** Reads are retried on any error: repeating one costs nothing but time. */
const ANY_ERROR = () => true
/** Writes only on contention and D1's transient errors: waiting cannot fix a bad statement. */
const TRANSIENT = (e: unknown) =>
  /overloaded|busy|locked|timed? ?out|reset|network|unavailable|internal error|try again/i.test(String(e))

async function retryIdempotent<T>(
  run: () => Promise<T>,
  retryable: (e: unknown) => boolean = TRANSIENT,
): Promise<T> {
  for (const delay of RETRY_DELAYS_MS) {
    try {
      return await run()
    } catch (e) {
      if (!retryable(e)) throw e
      await new Promise((r) => setTimeout(r, delay / 2 + Math.random() * delay))
    }
  }
  return run()
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.message.slice(0, 200) : 'unknown'
}

const pools = perIsolate<Pool>()

export const poolFor = (d1: D1Database, refreshMs: number): Pool => pools(d1, () => new Pool(d1, refreshMs))
