import { all } from '../db/meter'
import { perIsolate } from '../db/per-isolate'
import { PROVIDER_IDS } from '../providers/types'

/** A key row as the dashboard needs it (D1's column names). */
export interface AdminRow {
  id: number
  provider: string
  key: string
  status: 'active' | 'blocked' | 'deleted'
  remark: string
  blocked_reason: string | null
  blocked_at: number | null
  cooldowns: string
  seq: number
  created_at: number
  checked_at: number | null
}

/**
 * Every key with its admin fields, kept in this isolate and brought up to date on each admin call by
 * reading only rows whose `seq` moved (one query, one cursor per provider, through the
 * (provider, seq) index). Listing, searching and sorting 10,000 keys then reads no rows at all; the
 * first call of an isolate reads each key once.
 */
const FULL_RELOAD_MS = 6 * 3600 * 1000

export class AdminView {
  private readonly rows = new Map<number, AdminRow>()
  private readonly cursors = new Map<string, number>(PROVIDER_IDS.map((p) => [p, -1]))
  private syncing: Promise<void> | undefined
  private loadedAt = 0

  constructor(private readonly d1: D1Database) {}

  async sync(): Promise<void> {
    // Concurrent admin calls share one read.
    this.syncing ??= this.read().finally(() => (this.syncing = undefined))
    await this.syncing
  }

  private async read(): Promise<void> {
    // Like the pool view, start over every few hours: the cron purges old tombstones, and a
    // tombstone this view never read would otherwise leave a deleted key listed.
    if (Date.now() - this.loadedAt > FULL_RELOAD_MS) {
      this.rows.clear()
      for (const p of PROVIDER_IDS) this.cursors.set(p, -1)
      this.loadedAt = Date.now()
    }
    const terms = PROVIDER_IDS.map((_, i) => `(provider = ?${2 * i + 1} AND seq > ?${2 * i + 2})`)
    const binds = PROVIDER_IDS.flatMap((p) => [p, this.cursors.get(p) ?? -1])
    const { results } = await all<AdminRow>(
      this.d1.prepare(`SELECT * FROM keys WHERE ${terms.join(' OR ')}`).bind(...binds),
    )
    for (const row of results) {
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
