import type { AdminRow } from '../db/rows'
import { displayStatus, runningUntil } from './present'
import type { KeyUsage } from './usage-cache'

export const SORTS = [
  'id',
  'key',
  'state',
  'remark',
  'cooldown',
  'requests',
  'errors',
  'lastUsed',
  'blockedAt',
  'provider',
  'group',
] as const
export type Sort = (typeof SORTS)[number]

export interface KeyQuery {
  provider?: string | undefined
  /** `active` and `blocked` are stored states; `cooling` and `available` split active keys. */
  status?: 'active' | 'available' | 'cooling' | 'blocked' | undefined
  /** A fragment of the key or of the remark, case-insensitive. */
  q?: string | undefined
  group?: string | undefined
  sort: Sort
  order: 'asc' | 'desc'
}

/** Filters and sorts keys in memory (see AdminView): any column, any order, no table scan in D1. */
export function queryKeys(
  rows: AdminRow[],
  query: KeyQuery,
  usage: Map<number, KeyUsage>,
  now: number,
): AdminRow[] {
  const q = query.q?.toLowerCase()
  const filtered = rows.filter((r) => {
    if (query.provider && r.provider !== query.provider) return false
    if (query.group !== undefined && (r.keyGroup ?? '') !== query.group) return false
    if (q && !r.key.toLowerCase().includes(q) && !r.remark.toLowerCase().includes(q)) return false
    if (!query.status) return true
    const state = displayStatus(r, now)
    if (query.status === 'active') return r.status === 'active'
    if (query.status === 'available') return state === 'active'
    return state === query.status
  })
  const value = (r: AdminRow): number | string => {
    switch (query.sort) {
      case 'id':
        return r.id
      case 'key':
        return r.key
      case 'state':
        return displayStatus(r, now)
      case 'remark':
        return r.remark.toLowerCase()
      case 'cooldown':
        return Math.max(0, ...Object.values(runningUntil(r, now)))
      case 'requests':
        return usage.get(r.id)?.requests ?? 0
      case 'errors':
        return (usage.get(r.id)?.errors ?? 0) + (usage.get(r.id)?.rateLimited ?? 0)
      case 'lastUsed':
        return usage.get(r.id)?.lastUsed ?? 0
      case 'blockedAt':
        return r.blockedAt ?? 0
      case 'provider':
        return r.provider
      case 'group':
        // By group, then tier and weight: the settings column reads in that order.
        return `${r.keyGroup ?? '\uffff'}|${r.tier}|${String(r.weight).padStart(4, '0')}`
    }
  }
  const dir = query.order === 'asc' ? 1 : -1
  return filtered
    .map((r) => ({ r, v: value(r) }))
    .sort((a, b) => (a.v < b.v ? -dir : a.v > b.v ? dir : a.r.id - b.r.id))
    .map((x) => x.r)
}
