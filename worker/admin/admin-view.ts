import { loadConfig, type Env } from '../config'
import { adminRowsChangedSince } from '../db/admin.repo'
import { perIsolate } from '../db/per-isolate'
import { SharedRead } from '../db/shared-read'
import type { AdminRow } from '../db/rows'
import { FULL_RELOAD_MS } from '../db/tombstones'
import type { Vault } from '../db/vault'
import { distinctMasks, maskKey } from '../log'
import { PROVIDER_IDS } from '../providers/types'

/**
 * Every key with its admin fields, kept in this isolate and brought up to date on each admin call by
 * reading only rows whose `seq` moved (one query, one cursor per provider, through the
 * (provider, seq) index). Listing, searching and sorting 10,000 keys then reads no rows at all; the
 * first call of an isolate reads each key once. Keys are held opened (decrypted): the dashboard masks
 * them, searches them by fragment and exports them.
 */
export class AdminView {
  private readonly rows = new Map<number, AdminRow>()
  private readonly cursors = new Map<string, number>()
  private readonly syncing = new SharedRead()
  private loadedAt = 0
  /** key id → its shown mask; undefined until asked for after a change. */
  private masks: Map<number, string> | undefined

  constructor(
    private readonly d1: D1Database,
    private readonly vault: Vault,
  ) {}

  async sync(): Promise<void> {
    // Concurrent admin calls share one read.
    await this.syncing.join(() => this.read())
  }

  private async read(): Promise<void> {
    // Like the pool view, start over every few hours, so no purged tombstone can be missed.
    if (Date.now() - this.loadedAt > FULL_RELOAD_MS) {
      this.rows.clear()
      for (const p of PROVIDER_IDS) this.cursors.set(p, -1)
      this.loadedAt = Date.now()
    }
    const changed = await adminRowsChangedSince(this.d1, this.cursors)
    await Promise.all(
      changed.map(async (row) => {
        if (row.status !== 'deleted') row.key = await this.vault.open(row.key).catch(() => UNDECRYPTABLE)
      }),
    )
    if (changed.length > 0) this.masks = undefined
    for (const row of changed) {
      if (row.status === 'deleted') this.rows.delete(row.id)
      else this.rows.set(row.id, row)
      this.cursors.set(row.provider, Math.max(this.cursors.get(row.provider) ?? -1, row.seq))
    }
  }

  get(id: number): AdminRow | undefined {
    return this.rows.get(id)
  }

  /**
   * How a key is shown: masked, and distinct from the other keys of its provider where their usual
   * masks would read alike (log.ts distinctMasks). Worked out again only after the rows changed.
   */
  mask(row: AdminRow): string {
    if (!this.masks) {
      this.masks = new Map()
      const byProvider = new Map<string, AdminRow[]>()
      for (const r of this.rows.values())
        byProvider.set(r.provider, [...(byProvider.get(r.provider) ?? []), r])
      for (const rows of byProvider.values()) {
        const masks = distinctMasks(rows.map((r) => r.key))
        rows.forEach((r, i) => this.masks?.set(r.id, masks[i] as string))
      }
    }
    if (unopenable(row)) return '(sealed with another ENCRYPTION_KEY)'
    return this.masks.get(row.id) ?? maskKey(row.key)
  }

  list(): AdminRow[] {
    return [...this.rows.values()]
  }
}

/** Shown (masked to `…`) for a key the current ENCRYPTION_KEY cannot open. */
const UNDECRYPTABLE = '(undecryptable)'

/** Whether the current ENCRYPTION_KEY could not open this row's key (it was sealed with another). */
export const unopenable = (row: AdminRow): boolean => row.key === UNDECRYPTABLE

const views = perIsolate<AdminView>()

export async function adminView(env: Env): Promise<AdminView> {
  const view = views(env.DB, () => new AdminView(env.DB, loadConfig(env).vault))
  await view.sync()
  return view
}
