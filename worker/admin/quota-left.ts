import type { LimitOverride } from '../db/limits.repo'
import type { FreeTier, ModelLimits } from '../providers/free-tier'

/** A key as the quota count needs it: which project it draws on, and whether it can serve. */
export interface QuotaKey {
  id: number
  group: string | null
  blocked: boolean
}

export interface ProjectLeft {
  /** The key group, or `#<id>` for a key of its own. */
  project: string
  keys: number[]
  requestsPerDay: number
  used: number
  left: number
}

export interface ModelLeft {
  model: string
  /** The figures for a project without an override of its own (the default, or the all-group override). */
  limits: ModelLimits
  overridden: boolean
  projects: number
  requestsPerDay: number
  used: number
  left: number
  perProject: ProjectLeft[]
}

/**
 * Requests left today per model, project by project: a free-tier quota is per project (a key group;
 * a key without one is its own), so keys of one project share it. `used` holds each model's requests
 * today per key, as counted in the usage batches. Projects whose keys are all blocked serve nothing
 * and are left out; their requests still count against their project.
 */
export function quotaLeft(input: {
  freeTier: FreeTier | undefined
  overrides: LimitOverride[]
  keys: QuotaKey[]
  used: Map<string, Map<number, number>>
}): ModelLeft[] {
  const { freeTier, overrides, keys, used } = input
  const override = (model: string, group: string) =>
    overrides.find((o) => o.model === model && o.group === group)
  const limitsFor = (model: string, group: string): ModelLimits => ({
    ...freeTier?.models[model],
    ...override(model, ''),
    ...override(model, group),
  })
  const projects = new Map<string, QuotaKey[]>()
  for (const k of keys) {
    const p = k.group ?? `#${k.id}`
    const members = projects.get(p)
    if (members) members.push(k)
    else projects.set(p, [k])
  }
  const models = new Set([...Object.keys(freeTier?.models ?? {}), ...overrides.map((o) => o.model)])
  const out: ModelLeft[] = []
  for (const model of [...models].sort()) {
    const usedBy = used.get(model)
    const limits = limitsFor(model, '')
    const perProject: ProjectLeft[] = []
    for (const [project, members] of projects) {
      if (members.every((k) => k.blocked)) continue
      // A key of its own has no group to override it: the figures without one, worked out once.
      const { requestsPerDay } = project.startsWith('#') ? limits : limitsFor(model, project)
      if (requestsPerDay === undefined) continue
      const spent = members.reduce((n, k) => n + (usedBy?.get(k.id) ?? 0), 0)
      perProject.push({
        project,
        keys: members.map((k) => k.id),
        requestsPerDay,
        used: spent,
        left: Math.max(0, requestsPerDay - spent),
      })
    }
    if (perProject.length === 0 && limits.requestsPerDay === undefined) continue
    // Plain comparison: localeCompare goes through ICU, milliseconds over a thousand projects.
    perProject.sort((a, b) => a.left - b.left || (a.project < b.project ? -1 : a.project > b.project ? 1 : 0))
    out.push({
      model,
      limits,
      overridden: overrides.some((o) => o.model === model),
      projects: perProject.length,
      requestsPerDay: perProject.reduce((n, p) => n + p.requestsPerDay, 0),
      used: perProject.reduce((n, p) => n + p.used, 0),
      left: perProject.reduce((n, p) => n + p.left, 0),
      perProject,
    })
  }
  return out
}
