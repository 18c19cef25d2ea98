import { perIsolate } from '../db/per-isolate'
import { loadRoutes, routesChangedSince, type RouteRow } from '../db/routes.repo'
import { SeqView } from '../db/seq-view'

/**
 * An isolate's view of the model aliases, kept fresh as the client keys' view is: one load, then only
 * rows whose seq moved, read by a request that needs an alias and finds the view older than
 * POOL_REFRESH_SECONDS (refreshed in the background past half of it). A request naming
 * `<provider>/<model>` never looks here, so deployments without aliases pay nothing.
 */
export class AliasBook extends SeqView<RouteRow> {
  private targets = new Map<string, string[]>()

  constructor(db: D1Database, refreshMs: number) {
    super(db, refreshMs, 'aliases_refresh_failed')
  }

  /** The targets of alias `name` (`<provider>/<model>`, in order), reading first if the view is stale. */
  async resolve(
    name: string,
    now: number,
    waitUntil: (p: Promise<unknown>) => void,
  ): Promise<string[] | undefined> {
    if (this.mustRead(now)) await this.read(now, waitUntil)
    else this.freshen(now, waitUntil)
    return this.targets.get(name)
  }

  /** Every alias with its targets, for `/models`. */
  async all(now: number, waitUntil: (p: Promise<unknown>) => void): Promise<[string, string[]][]> {
    await this.resolve('', now, waitUntil)
    return [...this.targets].sort(([a], [b]) => a.localeCompare(b))
  }

  protected load() {
    return loadRoutes(this.db)
  }

  protected changedSince(seq: number) {
    return routesChangedSince(this.db, seq)
  }

  protected clear(): void {
    this.targets = new Map()
  }

  protected apply(rows: RouteRow[]): void {
    for (const row of rows) {
      if (row.status === 'deleted') this.targets.delete(row.name)
      else this.targets.set(row.name, JSON.parse(row.targets) as string[])
    }
  }
}

const books = perIsolate<AliasBook>()

export const aliasBookFor = (d1: D1Database, refreshMs: number): AliasBook =>
  books(d1, () => new AliasBook(d1, refreshMs))
