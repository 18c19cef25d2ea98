import type { Env } from '../config'
import { addCounts, zeroCounts, type Counts } from '../db/counts'
import { PROVIDER_IDS } from '../providers/types'
import { adminView } from './admin-view'
import { modelHealth, returningByHour, type ModelHealth, type Returning } from './pool-health'
import { displayStatus } from './present'
import { recentUsage } from './usage-cache'

interface Card {
  provider: string
  keys: { active: number; cooling: number; blocked: number; total: number }
  usage: Counts
  hourly: ({ hour: number } & Counts)[]
  /** Per model with traffic in 24 h: keys usable right now. */
  health: ModelHealth[]
  /** Keys coming back from cooldown, hour by hour over the next 24 h. */
  returning: Returning[]
}

/**
 * `GET /admin/api/overview`: one card per provider with keys or traffic: states now, usage over 24 h,
 * pool health per model and the keys coming back over the next 24 h. All from the admin view and the
 * cached usage rows: no query per key.
 */
export async function getOverview(env: Env): Promise<Response> {
  const [view, usage] = await Promise.all([adminView(env), recentUsage(env.DB)])
  const now = Date.now() / 1000
  const cards = new Map<string, Card>()
  const card = (provider: string) => {
    let c = cards.get(provider)
    if (!c) {
      c = {
        provider,
        keys: { active: 0, cooling: 0, blocked: 0, total: 0 },
        usage: zeroCounts(),
        hourly: [],
        health: [],
        returning: [],
      }
      cards.set(provider, c)
    }
    return c
  }
  const rows = view.list()
  for (const row of rows) {
    const c = card(row.provider)
    c.keys[displayStatus(row, now)]++
    c.keys.total++
  }
  const hours = new Map<string, Card['hourly'][number]>()
  for (const row of usage) {
    const c = card(row.provider)
    addCounts(c.usage, row)
    const id = `${row.provider}|${row.hour}`
    let h = hours.get(id)
    if (!h) {
      h = { hour: row.hour, ...zeroCounts() }
      hours.set(id, h)
      c.hourly.push(h)
    }
    addCounts(h, row)
  }
  for (const c of cards.values()) c.hourly.sort((a, b) => a.hour - b.hour)
  for (const [provider, health] of modelHealth(rows, usage, now)) card(provider).health = health
  for (const [provider, returning] of returningByHour(rows, now)) card(provider).returning = returning
  return Response.json({
    generatedAt: Math.floor(now),
    knownProviders: PROVIDER_IDS,
    providers: [...cards.values()].sort(
      (a, b) => b.keys.total - a.keys.total || a.provider.localeCompare(b.provider),
    ),
  })
}
