import { dayPeriod, monthPeriod } from '../clients/quotas'
import { loadConfig, type Env } from '../config'
import { pruneClientUsage, purgeClientTombstones } from '../db/clients.repo'
import { pruneSamples, samplePoolStates } from '../db/samples.repo'
import { pruneSessions } from '../db/sessions.repo'
import { pruneDayTally } from '../db/day-tally.repo'
import { LAST_CRON, writeMeta } from '../db/setup.repo'
import { foldMetrics, foldedThrough } from '../db/metrics.repo'
import { compactUsage, pruneUsage } from '../db/stats.repo'
import { TOMBSTONE_DAYS } from '../db/tombstones'
import { log } from '../log'
import { keyStateFor } from '../pool/key-state'
import { alertsFor } from './alerts'
import { recoverBlockedKeys } from './check'

/**
 * The Cron Trigger (wrangler.toml `[triggers]`): clears expired cooldowns, samples key states for the
 * dashboard, purges old tombstones, seals keys stored before encryption, deletes expired dashboard
 * sessions, re-checks blocked keys (unless SCHEDULED_RECOVERY=off), folds new usage into the metrics'
 * running totals, compacts the usage batches of finished hours and prunes usage older than STATS_RETENTION_DAYS. Each part runs even if another fails.
 */

/** Keys stored before encryption sealed per run: 10,000 take an hour at most (one batch each run). */
const SEAL_BATCH = 2000
/** A day more than the dashboard's longest chart, so its first bar is full. */
const SAMPLE_DAYS = 8

export async function runScheduled(env: Env): Promise<void> {
  const config = loadConfig(env)
  const now = Math.floor(Date.now() / 1000)
  const keys = keyStateFor(env.DB, config)
  const parts: [string, () => Promise<void>][] = [
    [
      'sweep',
      async () => {
        const swept = await keys.sweepExpired(now)
        if (swept > 0) log('cooldowns_swept', { keys: swept })
      },
    ],
    [
      // The dashboard's "keys by state" chart: one row per run, kept for 8 days.
      'samples',
      async () => {
        await samplePoolStates(env.DB, now)
        await pruneSamples(env.DB, now - SAMPLE_DAYS * 86_400)
      },
    ],
    [
      'tombstones',
      async () => {
        const purged = await keys.purgeTombstones(now - TOMBSTONE_DAYS * 86_400)
        if (purged > 0) log('tombstones_purged', { keys: purged })
        const clients = await purgeClientTombstones(env.DB, now - TOMBSTONE_DAYS * 86_400)
        if (clients > 0) log('client_tombstones_purged', { clients })
      },
    ],
    [
      'seal',
      async () => {
        const sealed = await keys.sealLegacy(SEAL_BATCH)
        if (sealed > 0) log('keys_sealed', { keys: sealed })
      },
    ],
    [
      'alerts',
      async () => {
        await alertsFor(env.DB, config).retry(now)
      },
    ],
    [
      'sessions',
      async () => {
        await pruneSessions(env.DB, now)
      },
    ],
    [
      'day-tally',
      async () => {
        // Yesterday's row is still written by a flush that spans midnight; the day before is over.
        await pruneDayTally(env.DB, new Date((now - 2 * 86_400) * 1000).toISOString().slice(0, 10))
      },
    ],
    [
      'recovery',
      async () => {
        if (!config.scheduledRecovery || !config.gatewayBase) return
        await recoverBlockedKeys({ db: env.DB, config, gatewayBase: config.gatewayBase })
      },
    ],
    [
      'usage',
      async () => {
        // Compaction takes only rows an earlier run folded: they are at least one run old, so a
        // dashboard window that looked within that time has read them all and need not start over
        // (admin/usage-window.ts). Rows compact one run later; the counts are the same.
        const previous = await foldedThrough(env.DB)
        // Counts reach the metrics' totals before anything may prune or compact them.
        const mark = await foldMetrics(env.DB, config.metricsPerKey).catch(async (e: unknown) => {
          log('internal_error', { scheduled: 'metrics', error: String(e).slice(0, 200) })
          return foldedThrough(env.DB)
        })
        const pruned = await pruneUsage(env.DB, now - config.statsRetentionDays * 86_400, mark)
        // Client keys' days as long as usage is kept; their months for a year and a bit.
        const since = (now - config.statsRetentionDays * 86_400) * 1000
        await pruneClientUsage(env.DB, dayPeriod(since), monthPeriod((now - 400 * 86_400) * 1000))
        const folded = await compactUsage(env.DB, now - (now % 3600), Math.min(previous, mark))
        if (pruned > 0 || folded > 0) log('stats_pruned', { pruned, compacted: folded })
      },
    ],
  ]
  parts.push([
    'heartbeat',
    async () => {
      // The setup check (admin/setup.ts) tells from this whether the Cron Trigger runs at all.
      await writeMeta(env.DB, LAST_CRON, String(now))
    },
  ])
  for (const [name, run] of parts) {
    try {
      await run()
    } catch (e) {
      log('internal_error', { scheduled: name, error: String(e).slice(0, 200) })
    }
  }
}
