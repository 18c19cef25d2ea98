import type { Env } from '../config'
import { PROVIDER_IDS } from '../providers/types'
import { adminView } from './admin-view'
import { requireAdmin } from './guard'
import { displayStatus } from './present'
import { recentUsage } from './usage-cache'

interface Card {
  provider: string
  keys: { active: number; cooling: number; blocked: number; total: number }
  usage: { requests: number; successes: number; rateLimited: number; errors: number }
  hourly: { hour: number; requests: number; successes: number; rateLimited: number }[]
}

/** `GET /admin/api/overview`: one card per provider with keys or traffic: states now, usage over 24 h. */
export async function getOverview(request: Request, env: Env): Promise<Response> {
  await requireAdmin(request, env)
  const [view, usage] = await Promise.all([adminView(env.DB), recentUsage(env.DB)])
  const now = Date.now() / 1000
  const cards = new Map<string, Card>()
  const card = (provider: string) => {
    let c = cards.get(provider)
    if (!c) {
      c = {
        provider,
        keys: { active: 0, cooling: 0, blocked: 0, total: 0 },
        usage: { requests: 0, successes: 0, rateLimited: 0, errors: 0 },
        hourly: [],
      }
      cards.set(provider, c)
    }
    return c
  }
  for (const row of view.list()) {
    const c = card(row.provider)
    c.keys[displayStatus(row, now)]++
    c.keys.total++
  }
  const hours = new Map<string, Card['hourly'][number]>()
  for (const row of usage) {
    const c = card(row.provider)
    c.usage.requests += row.requests
    c.usage.successes += row.successes
    c.usage.rateLimited += row.rate_limited
    c.usage.errors += row.errors
    const id = `${row.provider}|${row.hour}`
    let h = hours.get(id)
    if (!h) {
      h = { hour: row.hour, requests: 0, successes: 0, rateLimited: 0 }
      hours.set(id, h)
      c.hourly.push(h)
    }
    h.requests += row.requests
    h.successes += row.successes
    h.rateLimited += row.rate_limited
  }
  for (const c of cards.values()) c.hourly.sort((a, b) => a.hour - b.hour)
  return Response.json({
    generatedAt: Math.floor(now),
    knownProviders: PROVIDER_IDS,
    providers: [...cards.values()].sort(
      (a, b) => b.keys.total - a.keys.total || a.provider.localeCompare(b.provider),
    ),
  })
}
