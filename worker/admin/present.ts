import { maskKey } from '../log'
import type { AdminRow } from './admin-view'
import type { KeyUsage } from './usage-cache'

export function runningCooldowns(
  row: Pick<AdminRow, 'cooldowns'>,
  nowSeconds: number,
): Record<string, { until: number }> {
  const cooldowns: Record<string, { until: number }> = {}
  try {
    for (const [model, until] of Object.entries(JSON.parse(row.cooldowns) as Record<string, number>)) {
      if (typeof until === 'number' && until > nowSeconds) cooldowns[model] = { until }
    }
  } catch {
    // An unreadable cooldown map is shown as none; the proxy treats it the same way.
  }
  return cooldowns
}

/** What the dashboard calls a key's state: blocked, cooling (active with a running cooldown), or active. */
export function displayStatus(row: AdminRow, nowSeconds: number): 'active' | 'cooling' | 'blocked' {
  if (row.status === 'blocked') return 'blocked'
  return Object.keys(runningCooldowns(row, nowSeconds)).length > 0 ? 'cooling' : 'active'
}

const NO_USAGE: KeyUsage = {
  requests: 0,
  successes: 0,
  rateLimited: 0,
  errors: 0,
  lastUsed: null,
  lastError: null,
}

/** A key as the admin API shows it: masked, with only the cooldowns still running. */
export function presentKey(row: AdminRow, nowSeconds: number, usage?: KeyUsage) {
  return {
    id: row.id,
    provider: row.provider,
    key: maskKey(row.key),
    status: row.status,
    state: displayStatus(row, nowSeconds),
    remark: row.remark,
    blockedReason: row.blocked_reason,
    blockedAt: row.blocked_at,
    checkedAt: row.checked_at,
    createdAt: row.created_at,
    cooldowns: runningCooldowns(row, nowSeconds),
    usage: usage ?? NO_USAGE,
  }
}
