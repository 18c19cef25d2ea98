import { cooledUntil, parseCooldowns } from '../db/cooldowns'
import type { AdminRow } from '../db/rows'

/** For one model with traffic: how many of the provider's keys could serve it right now. */
export interface ModelHealth {
  model: string
  usable: number
  total: number
}

/** One hour of the next 24: how many keys come back in it, and for which models. */
export interface Returning {
  hour: number
  keys: number
  models: Record<string, number>
}

/** Models shown per provider: the busiest, so the card stays a card whatever names callers send. */
export const HEALTH_MODELS_SHOWN = 20

export interface ProviderHealth {
  models: ModelHealth[]
  /** Models with traffic beyond those shown. */
  more: number
}

/**
 * Pool health per provider, from what the overview already holds (the admin view's rows and the
 * 24-hour usage rows): no extra query. A key is usable for a model when it is active and neither a
 * cooldown for that model nor one for every model is running, the same rule the pool picks by. The
 * HEALTH_MODELS_SHOWN busiest models are shown, by name; the rest are counted.
 */
export function modelHealth(
  rows: AdminRow[],
  usage: { provider: string; model: string; requests: number }[],
  nowSeconds: number,
): Map<string, ProviderHealth> {
  const traffic = new Map<string, Map<string, number>>()
  for (const u of usage) {
    let models = traffic.get(u.provider)
    if (!models) traffic.set(u.provider, (models = new Map()))
    models.set(u.model, (models.get(u.model) ?? 0) + u.requests)
  }
  const byProvider = new Map<string, ProviderHealth>()
  for (const [provider, models] of traffic) {
    const keys = rows.filter((r) => r.provider === provider)
    // Each key's map parsed once, not once per model.
    const active = keys.filter((k) => k.status === 'active').map((k) => parseCooldowns(k.cooldowns))
    const busiest = [...models]
      .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
      .slice(0, HEALTH_MODELS_SHOWN)
      .map(([model]) => model)
    const health = busiest.sort().map((model) => ({
      model,
      total: keys.length,
      usable: active.filter((cooldowns) => cooledUntil(cooldowns, model) <= nowSeconds).length,
    }))
    byProvider.set(provider, { models: health, more: models.size - health.length })
  }
  return byProvider
}

/**
 * When cooling keys come back over the next 24 hours, hour by hour. A key counts once in an hour
 * however many of its cooldowns end in it; `models` says which scopes end there (`*`: every model).
 * Blocked keys do not come back by themselves, so they are left out.
 */
export function returningByHour(rows: AdminRow[], nowSeconds: number): Map<string, Returning[]> {
  const start = nowSeconds - (nowSeconds % 3600)
  const end = nowSeconds + 24 * 3600
  const byProvider = new Map<string, Map<number, Returning>>()
  for (const row of rows) {
    if (row.status !== 'active') continue
    const hoursOfKey = new Set<number>()
    for (const [model, until] of Object.entries(parseCooldowns(row.cooldowns))) {
      if (until <= nowSeconds || until > end) continue
      const hour = until - (until % 3600)
      let hours = byProvider.get(row.provider)
      if (!hours) byProvider.set(row.provider, (hours = new Map()))
      let slot = hours.get(hour)
      if (!slot) hours.set(hour, (slot = { hour, keys: 0, models: {} }))
      slot.models[model] = (slot.models[model] ?? 0) + 1
      if (!hoursOfKey.has(hour)) {
        hoursOfKey.add(hour)
        slot.keys++
      }
    }
  }
  const out = new Map<string, Returning[]>()
  for (const [provider, hours] of byProvider) {
    out.set(
      provider,
      [...hours.values()].filter((h) => h.hour >= start).sort((a, b) => a.hour - b.hour),
    )
  }
  return out
}
