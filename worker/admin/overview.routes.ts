import type { Env } from '../config'
import { settleAll } from '../db/shared-read'
import { addCounts, zeroCounts, type Counts } from '../db/counts'
import type { StateSample } from '../db/samples.repo'
import { parseQuery } from '../http/validate'
import { PROVIDER_IDS } from '../providers/types'
import { adminView } from './admin-view'
import { modelHealth, returningByHour, type ModelHealth, type Returning } from './pool-health'
import { displayStatus } from './present'
import { OverviewQuery } from './keys.schemas'
import { recentByModel, weekSamples, weekUsage } from './usage-cache'

interface Card {
  provider: string
  keys: { active: number; cooling: number; blocked: number; total: number }
  /** Over the range asked for (24 h or 7 days), in total and per hour with traffic. */
  usage: Counts
  hourly: ({ hour: number } & Counts)[]
  /** Keys in total, cooling and blocked, as the cron sampled them over the range (every 10 min). */
  states: StateSample[]
  /** Per model with traffic in 24 h (the busiest, HEALTH_MODELS_SHOWN): keys usable right now. */
  health: ModelHealth[]
  /** Models with traffic in 24 h not shown in `health`. */
  healthMore: number
  /** Keys coming back from cooldown, hour by hour over the next 24 h. */
  returning: Returning[]
}

const RANGE_SECONDS = { '24h': 24 * 3600, '7d': 7 * 24 * 3600 } as const

/**
 * `GET /admin/api/overview?range=24h|7d`: one card per provider with keys or traffic: states now,
 * usage and sampled key states over the range, pool health per model (from the last 24 h's traffic)
 * and the keys coming back over the next 24 h. All from the admin view and cached aggregate rows (the
 * week's usage per provider and hour, the cron's samples): no query per key, none per render.
 */
export async function getOverview(request: Request, env: Env): Promise<Response> {
  const { range } = parseQuery(new URL(request.url), OverviewQuery)
  const [view, usage, week, samples] = await settleAll([
    adminView(env),
    recentByModel(env.DB),
    range === '7d' ? weekUsage(env.DB) : undefined,
    weekSamples(env.DB),
  ])
  const now = Date.now() / 1000
  const from = now - RANGE_SECONDS[range]
  const cards = new Map<string, Card>()
  const card = (provider: string) => {
    let c = cards.get(provider)
    if (!c) {
      c = {
        provider,
        keys: { active: 0, cooling: 0, blocked: 0, total: 0 },
        usage: zeroCounts(),
        hourly: [],
        states: [],
        health: [],
        healthMore: 0,
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
  for (const row of week ?? usage) {
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
  // Providers whose keys are all gone keep no card for their old samples.
  for (const [provider, list] of samples) {
    const c = cards.get(provider)
    if (c) c.states = list.filter((s) => s.at >= from)
  }
  for (const [provider, { models, more }] of modelHealth(rows, usage, now)) {
    Object.assign(card(provider), { health: models, healthMore: more })
  }
  for (const [provider, returning] of returningByHour(rows, now)) card(provider).returning = returning
  return Response.json({
    generatedAt: Math.floor(now),
    range,
    knownProviders: PROVIDER_IDS,
    providers: [...cards.values()].sort(
      (a, b) => b.keys.total - a.keys.total || a.provider.localeCompare(b.provider),
    ),
  })
}
