import type { KeyRow } from '../db/schema'
import { maskKey } from '../log'

/** A key as the admin API shows it: masked, with only the cooldowns still running. */
export function presentKey(row: KeyRow, nowSeconds: number) {
  const cooldowns: Record<string, { until: number }> = {}
  try {
    for (const [model, until] of Object.entries(JSON.parse(row.cooldowns) as Record<string, number>)) {
      if (typeof until === 'number' && until > nowSeconds) cooldowns[model] = { until }
    }
  } catch {
    // An unreadable cooldown map is shown as none; the proxy treats it the same way.
  }
  return {
    id: row.id,
    provider: row.provider,
    key: maskKey(row.key),
    status: row.status,
    remark: row.remark,
    blockedReason: row.blockedReason,
    blockedAt: row.blockedAt,
    checkedAt: row.checkedAt,
    createdAt: row.createdAt,
    cooldowns,
  }
}
