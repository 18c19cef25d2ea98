import { perIsolate } from '../db/per-isolate'
import { ANY_ERROR, retryIdempotent } from '../db/retry'
import { loadRoutes, routesChangedSince, type RouteRow } from '../db/routes.repo'
import { SharedRead } from '../db/shared-read'
import { FULL_RELOAD_MS } from '../db/tombstones'
import { log } from '../log'

/**
 * An isolate's view of the model aliases, kept fresh as the client keys' view is: one load, then only
 * rows whose seq moved, read by a request that needs an alias and finds the view older than
 * POOL_REFRESH_SECONDS (refreshed in the background past half of it). A request naming
 * `<provider>/<model>` never looks here, so deployments without aliases pay nothing.
 */
export class AliasBook {
  private targets = new Map<string, string[]>()
  private maxSeq = 0
  private loadedAt = -Infinity
  private refreshedAt = -Infinity
  private readonly reading = new SharedRead<void>()

  constructor(
    private readonly db: D1Database,
    private readonly refreshMs: number,
  ) {}

  /** The targets of alias `name` (`<provider>/<model>`, in order), reading first if the view is stale. */
  async resolve(
    name: string,
    now: number,
    waitUntil: (p: Promise<unknown>) => void,
  ): Promise<string[] | undefined> {
    if (now - this.refreshedAt >= this.refreshMs || now - this.loadedAt >= FULL_RELOAD_MS) {
      await this.reading.join(() => this.readNow(now), now, waitUntil)
    } else if (now - this.refreshedAt >= this.refreshMs / 2 && !this.reading.current(now)) {
      void this.reading.join(() => this.readNow(now), now, waitUntil)
    }
    return this.targets.get(name)
  }

  /** Every alias, for `/models`. */
  async names(now: number, waitUntil: (p: Promise<unknown>) => void): Promise<string[]> {
    await this.resolve('', now, waitUntil)
    return [...this.targets.keys()].sort()
  }

  /** An admin change made in this isolate: the next request that needs the view reads first. */
  invalidate(): void {
    this.refreshedAt = -Infinity
  }

  private async readNow(now: number): Promise<void> {
    try {
      if (now - this.loadedAt >= FULL_RELOAD_MS) {
        const { rows, maxSeq } = await retryIdempotent(() => loadRoutes(this.db), ANY_ERROR)
        this.targets = new Map()
        this.apply(rows)
        this.maxSeq = maxSeq
        this.loadedAt = now
      } else {
        const rows = await retryIdempotent(() => routesChangedSince(this.db, this.maxSeq), ANY_ERROR)
        this.apply(rows)
        for (const r of rows) this.maxSeq = Math.max(this.maxSeq, r.seq)
      }
      this.refreshedAt = Math.max(this.refreshedAt, now)
    } catch (e) {
      // D1 unavailable: aliases are served from the last view, or not at all before the first.
      log('aliases_refresh_failed', { error: String(e).slice(0, 200) })
      if (this.loadedAt > -Infinity) this.refreshedAt = Math.max(this.refreshedAt, now)
    }
  }

  private apply(rows: RouteRow[]): void {
    for (const row of rows) {
      if (row.status === 'deleted') this.targets.delete(row.name)
      else this.targets.set(row.name, JSON.parse(row.targets) as string[])
    }
  }
}

const books = perIsolate<AliasBook>()

export const aliasBookFor = (d1: D1Database, refreshMs: number): AliasBook =>
  books(d1, () => new AliasBook(d1, refreshMs))
