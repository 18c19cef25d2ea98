import { loadConfig, type Env } from '../config'
import { purgeTombstones, sweepExpiredCooldowns } from '../db/health.repo'
import { compactUsage, pruneUsage } from '../db/stats.repo'
import { log } from '../log'
import { recoverBlockedKeys } from './check'

/**
 * The Cron Trigger (wrangler.toml `[triggers]`): clears expired cooldowns, re-checks blocked keys
 * (unless SCHEDULED_RECOVERY=off), compacts the usage batches of finished hours and prunes usage
 * older than STATS_RETENTION_DAYS. Each part runs even if another fails.
 */
/** Deleted keys stay as (wiped) tombstones this long, far beyond any isolate's full reload. */
const TOMBSTONE_DAYS = 7

export async function runScheduled(env: Env): Promise<void> {
  const config = loadConfig(env)
  const now = Math.floor(Date.now() / 1000)
  const parts: [string, () => Promise<void>][] = [
    [
      'sweep',
      async () => {
        const swept = await sweepExpiredCooldowns(env.DB, now)
        if (swept > 0) log('cooldowns_swept', { keys: swept })
      },
    ],
    [
      'tombstones',
      async () => {
        const purged = await purgeTombstones(env.DB, now - TOMBSTONE_DAYS * 86_400)
        if (purged > 0) log('tombstones_purged', { keys: purged })
      },
    ],
    [
      'recovery',
      async () => {
        if (!config.scheduledRecovery || !config.gatewayBase) return
        await recoverBlockedKeys({ env, config, gatewayBase: config.gatewayBase })
      },
    ],
    [
      'usage',
      async () => {
        const pruned = await pruneUsage(env.DB, now - config.statsRetentionDays * 86_400)
        const folded = await compactUsage(env.DB, now - (now % 3600))
        if (pruned > 0 || folded > 0) log('stats_pruned', { pruned, compacted: folded })
      },
    ],
  ]
  for (const [name, run] of parts) {
    try {
      await run()
    } catch (e) {
      log('internal_error', { scheduled: name, error: String(e).slice(0, 200) })
    }
  }
}
