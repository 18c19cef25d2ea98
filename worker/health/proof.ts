/**
 * Proof before punishment. A key whose answer was a 401/403 naming no cause (a suspect: see Verdict)
 * may be dead, or the request may have asked for something the key may not touch. It is asked again,
 * off the client's path, with the check that spends no generation quota (probe.ts), and only a check
 * that fails blocks it: a request cannot take a healthy key out of the pool.
 */
import type { Config } from '../config'
import { perIsolate } from '../db/per-isolate'
import type { ProviderId } from '../providers/types'
import { checkKeys, type CheckReport } from './check'

/**
 * A key is proved at most this often per isolate: a client repeating a request that draws a 403 can
 * cost each key one check every few minutes, not one per request.
 */
export const PROOF_INTERVAL_MS = 5 * 60_000

/** Keys remembered at most; past this the oldest half is forgotten (they may be proved again sooner). */
const REMEMBERED = 10_000

export interface Suspect {
  id: number
  provider: ProviderId
  /** The key as stored (sealed). */
  key: string
}

export class Proofs {
  /** key id → when its last proof began (ms). */
  private readonly started = new Map<number, number>()

  constructor(
    private readonly db: D1Database,
    private readonly config: Config,
  ) {}

  /**
   * Proves `suspect` unless it was proved (or is being proved) in the last PROOF_INTERVAL_MS here.
   * Resolves to what the check found and changed, or undefined when no check was made. Never throws.
   */
  async prove(suspect: Suspect, nowMs = Date.now()): Promise<CheckReport | undefined> {
    const gatewayBase = this.config.gatewayBase
    if (!gatewayBase) return undefined
    const last = this.started.get(suspect.id)
    if (last !== undefined && nowMs - last < PROOF_INTERVAL_MS) return undefined
    this.remember(suspect.id, nowMs)
    const row = { ...suspect, status: 'active' as const }
    try {
      const [report] = await checkKeys({
        db: this.db,
        config: this.config,
        gatewayBase,
        rows: [row],
        via: 'proof',
      })
      return report
    } catch {
      // A check that could not run (D1 down, say) proved nothing: the key may be asked again.
      this.started.delete(suspect.id)
      return undefined
    }
  }

  private remember(id: number, nowMs: number): void {
    // Re-inserted last, so the Map's order (insertion order) is oldest first.
    this.started.delete(id)
    if (this.started.size >= REMEMBERED) {
      let drop = REMEMBERED / 2
      for (const old of this.started.keys()) {
        if (drop-- <= 0) break
        this.started.delete(old)
      }
    }
    this.started.set(id, nowMs)
  }
}

const proofs = perIsolate<Proofs>()

export const proofsFor = (db: D1Database, config: Config): Proofs => proofs(db, () => new Proofs(db, config))
