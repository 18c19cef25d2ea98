import type { Config } from '../config'
import { ALL_MODELS } from '../db/cooldowns'
import { blockedToRecheck } from '../db/health.repo'
import type { CheckRow } from '../db/rows'
import { log, maskKey } from '../log'
import { alertsFor } from './alerts'
import { keyStateFor, type KeyState } from '../pool/key-state'
import { PROVIDERS } from '../providers/registry'
import { probeKey, type ProbeResult } from './probe'

/** Workers allow six simultaneous outgoing connections per request. */
const CONCURRENCY = 6

export interface CheckReport {
  id: number
  provider: string
  key: string
  result: ProbeResult['result']
  status?: number
  reason?: string
  /** What the check changed, if anything. */
  change: 'blocked' | 'restored' | 'cooling' | null
}

export interface CheckInput {
  db: D1Database
  config: Config
  gatewayBase: string
  rows: CheckRow[]
  /** What asked for the check, in the log line of what it changed (default: an admin check or the cron). */
  via?: 'check' | 'proof'
}

/** Probes keys with bounded concurrency and applies what each answer proves; inconclusive changes nothing. */
export async function checkKeys(input: CheckInput): Promise<CheckReport[]> {
  const keys = keyStateFor(input.db, input.config)
  const reports = await mapLimit(input.rows, CONCURRENCY, (row) => checkOne(input, keys, row))
  await keys.markChecked(
    input.rows.map((r) => r.id),
    Math.floor(Date.now() / 1000),
  )
  return reports
}

async function checkOne(input: CheckInput, keys: KeyState, row: CheckRow): Promise<CheckReport> {
  const adapter = PROVIDERS[row.provider]
  // A key that cannot be opened (ENCRYPTION_KEY replaced) proves nothing either way.
  const secret = await input.config.vault.open(row.key).catch(() => undefined)
  const probe: ProbeResult =
    secret === undefined
      ? { result: 'inconclusive', status: 0, reason: 'undecryptable' }
      : adapter
        ? await probeKey({
            config: input.config,
            gatewayBase: input.gatewayBase,
            provider: row.provider,
            adapter,
            keyId: row.id,
            key: secret,
          })
        : { result: 'unsupported' }
  const report: CheckReport = {
    id: row.id,
    provider: row.provider,
    key: secret === undefined ? '…' : maskKey(secret),
    result: probe.result,
    change: null,
  }
  if (probe.result !== 'unsupported') report.status = probe.status
  if ('reason' in probe) report.reason = probe.reason
  const fields = { provider: row.provider, keyId: row.id, key: report.key }
  const now = Math.floor(Date.now() / 1000)

  const alerts = alertsFor(input.db, input.config)
  if (probe.result === 'valid' && row.status === 'blocked') {
    if (await keys.unblock(row.id)) {
      report.change = 'restored'
      log('key_restored', fields)
      await alerts.emit({
        kind: 'key_restored',
        provider: row.provider,
        keyId: row.id,
        maskedKey: report.key,
      })
    }
  } else if (probe.result === 'invalid' && row.status === 'active') {
    if (await keys.block(row.provider, row.id, probe.reason, now)) {
      report.change = 'blocked'
      log('key_blocked', { ...fields, reason: probe.reason, via: input.via ?? 'check' })
      await alerts.emit({
        kind: 'key_blocked',
        provider: row.provider,
        keyId: row.id,
        maskedKey: report.key,
        reason: probe.reason,
      })
    }
  } else if (probe.result === 'cooling' && row.status === 'active') {
    // A model list answering 429 says the key as a whole is limited, not one model.
    if (await keys.coolDown(row.provider, row.id, ALL_MODELS, now + probe.seconds, probe.reason)) {
      report.change = 'cooling'
      log('cooldown_set', {
        ...fields,
        scope: ALL_MODELS,
        seconds: probe.seconds,
        reason: probe.reason,
        via: input.via ?? 'check',
      })
    }
  }
  return report
}

/**
 * The scheduled recovery: re-checks the blocked keys checked longest ago and restores those that now
 * answer as valid. Only a valid answer restores a key: invalid, rate-limited or inconclusive leave it.
 */
export async function recoverBlockedKeys(input: Omit<CheckInput, 'rows'>): Promise<CheckReport[]> {
  const rows = await blockedToRecheck(input.db, input.config.recoveryBatchSize)
  return rows.length > 0 ? checkKeys({ ...input, rows }) : []
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}
