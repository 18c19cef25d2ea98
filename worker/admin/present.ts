import { parseCooldownReasons, parseCooldowns } from '../db/cooldowns'
import type { AdminRow } from '../db/rows'
import { maskKey } from '../log'
import { NO_USAGE, type KeyUsage } from './usage-cache'

/** When each running cooldown ends: what state and sorting need (the reasons are not parsed). */
export function runningUntil(row: Pick<AdminRow, 'cooldowns'>, nowSeconds: number): Record<string, number> {
  const running: Record<string, number> = {}
  for (const [model, until] of Object.entries(parseCooldowns(row.cooldowns))) {
    if (until > nowSeconds) running[model] = until
  }
  return running
}

/** The cooldowns still running, as the admin API shows them, each with why it was set (if known). */
function runningCooldowns(
  row: Pick<AdminRow, 'cooldowns' | 'cooldownReasons'>,
  nowSeconds: number,
): Record<string, { until: number; reason: string | null }> {
  const reasons = parseCooldownReasons(row.cooldownReasons)
  return Object.fromEntries(
    Object.entries(runningUntil(row, nowSeconds)).map(([model, until]) => [
      model,
      { until, reason: reasons[model] ?? null },
    ]),
  )
}

/** What the dashboard calls a key's state: blocked, cooling (active with a running cooldown), or active. */
export function displayStatus(row: AdminRow, nowSeconds: number): 'active' | 'cooling' | 'blocked' {
  if (row.status === 'blocked') return 'blocked'
  return Object.keys(runningUntil(row, nowSeconds)).length > 0 ? 'cooling' : 'active'
}

/**
 * A key as the admin API shows it: masked (`mask`: the view's distinct mask, AdminView.mask), with
 * only the cooldowns still running.
 */
export function presentKey(row: AdminRow, nowSeconds: number, usage?: KeyUsage, mask = maskKey(row.key)) {
  return {
    id: row.id,
    provider: row.provider,
    key: mask,
    status: row.status,
    state: displayStatus(row, nowSeconds),
    remark: row.remark,
    group: row.keyGroup,
    weight: row.weight,
    tier: row.tier,
    blockedReason: row.blockedReason,
    blockedAt: row.blockedAt,
    checkedAt: row.checkedAt,
    createdAt: row.createdAt,
    cooldowns: runningCooldowns(row, nowSeconds),
    usage: usage ?? NO_USAGE,
  }
}
