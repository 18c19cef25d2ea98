import {
  allClientTotals,
  clientsChangedSince,
  loadClients,
  type ClientRow,
  type PeriodTotals,
} from '../db/clients.repo'
import { perIsolate } from '../db/per-isolate'
import { SeqView } from '../db/seq-view'
import { AppError } from '../http/errors'

/**
 * The client keys as the dashboard lists them, kept per isolate the way the request path keeps them
 * (clients/book.ts): a Clients page refresh, every 10 s, reads only the rows whose seq moved, where
 * reading every client each time cost a row per client. Read before every call that lists them, so
 * a change made anywhere shows at once.
 */
class AdminClients extends SeqView<ClientRow> {
  private rows = new Map<number, ClientRow>()

  constructor(db: D1Database) {
    super(db, 0, 'clients_refresh_failed')
  }

  protected load() {
    return loadClients(this.db)
  }

  protected changedSince(seq: number) {
    return clientsChangedSince(this.db, seq)
  }

  protected clear(): void {
    this.rows = new Map()
  }

  protected apply(rows: ClientRow[]): void {
    for (const row of rows) {
      if (row.status === 'deleted') this.rows.delete(row.id)
      else this.rows.set(row.id, row)
    }
  }

  /** Whether the view was ever read: one never read would list no client at all. */
  get ready(): boolean {
    return this.loadedAt > -Infinity
  }

  list(): ClientRow[] {
    return [...this.rows.values()].sort((a, b) => a.id - b.id)
  }
}

const views = perIsolate<AdminClients>()

/** Every live client key, oldest first. */
export async function liveClientsView(d1: D1Database): Promise<ClientRow[]> {
  const view = views(d1, () => new AdminClients(d1))
  // Awaited by the call that asked, so nothing is left for the runtime to cancel.
  await view.read(Date.now(), () => undefined)
  // D1 unavailable before this isolate ever read the clients: say so, rather than list none.
  if (!view.ready) {
    throw new AppError(503, 'storage_unavailable', 'The key store is unavailable; try again shortly')
  }
  return view.list()
}

const totals = new WeakMap<D1Database, { at: number; periods: string; rows: PeriodTotals[] }>()

/**
 * Every client's totals in `periods` (today, this month), kept by an isolate for `maxAgeMs`: they
 * change only as usage flushes land (STATS_FLUSH_SECONDS), so re-reading them, a row per client and
 * period, on every 10 s refresh mostly reads the same figures again. Only a settled read is kept (a
 * pending one a cancelled request left would never settle).
 */
export async function clientTotalsShared(
  d1: D1Database,
  periods: string[],
  maxAgeMs: number,
): Promise<PeriodTotals[]> {
  const now = Date.now()
  const key = periods.join(',')
  const hit = totals.get(d1)
  if (hit && hit.periods === key && now - hit.at < maxAgeMs) return hit.rows
  const rows = await allClientTotals(d1, periods)
  totals.set(d1, { at: now, periods: key, rows })
  return rows
}
