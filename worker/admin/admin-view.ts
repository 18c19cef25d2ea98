import { adminRowsChangedSince } from '../db/admin.repo'
import { perIsolate } from '../db/per-isolate'
import type { AdminRow } from '../db/rows'
import { FULL_RELOAD_MS } from '../db/tombstones'
import { PROVIDER_IDS } from '../providers/types'

/**
 * Every key with its admin fields, kept in this isolate and brought up to date on each admin call by
 * reading only rows whose `seq` moved (one query, one cursor per provider, through the
 * (provider, seq) index). Listing, searching and sorting 10,000 keys then reads no rows at all; the
 * first call of an isolate reads each key once.
 */
export class AdminView {
  private readonly rows = new Map<number, AdminRow>()
  private readonly cursors = new Map<string, number>()
  private syncing: Promise<void> | undefined
  private loadedAt = 0

  constructor(private readonly d1: D1Database) {}

  async sync(): Promise<void> {
    // Concurrent admin calls share one read.
    this.syncing ??= this.read().finally(() => (this.syncing = undefined))
    await this.syncing
  }

  private async read(): Promise<void> {
    // Like the pool view, start over every few hours, so no purged tombstone can be missed.
    if (Date.now() - this.loadedAt > FULL_RELOAD_MS) {
      this.rows.clear()
      for (const p of PROVIDER_IDS) this.cursors.set(p, -1)
      this.loadedAt = Date.now()
    }
    for (const row of await adminRowsChangedSince(this.d1, this.cursors)) {
      if (row.status === 'deleted') this.rows.delete(row.id)
      else this.rows.set(row.id, row)
      this.cursors.set(row.provider, Math.max(this.cursors.get(row.provider) ?? -1, row.seq))
    }
  }

  get(id: number): AdminRow | undefined {
    return this.rows.get(id)
  }

  list(): AdminRow[] {
    return [...this.rows.values()]
  }
}

const views = perIsolate<AdminView>()

export async function adminView(d1: D1Database): Promise<AdminView> {
  const view = views(d1, () => new AdminView(d1))
  await view.sync()
  return view
}
