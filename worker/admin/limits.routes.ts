import type { Env } from '../config'
import { settleAll } from '../db/shared-read'
import { deleteLimitOverride, limitOverrides, setLimitOverride } from '../db/limits.repo'
import { AppError } from '../http/errors'
import * as z from '../http/schema'
import { parseQuery } from '../http/validate'
import { PROVIDERS } from '../providers/registry'
import { pacificDayStart, secondsUntilPacificMidnight } from '../providers/rate-limit'
import type { ProviderId } from '../providers/types'
import { toModelName } from '../proxy/model'
import { adminView } from './admin-view'
import { adminBody } from './body'
import { group, provider } from './keys.schemas'
import { quotaLeft } from './quota-left'
import { countedSince } from './usage-cache'

const LimitsQuery = z.object({
  provider: z._default(provider, 'google-ai-studio'),
  /** `none` leaves out each model's per-project list: the overview shows totals, and with a
   * thousand keys of their own the list is half a megabyte a refresh. */
  projects: z._default(z.enum(['all', 'none']), 'all'),
})

const figure = z.optional(z.nullable(z.int().check(z.minimum(1), z.maximum(1e9))))
const Target = {
  provider,
  model: z.string().check(z.minLength(1), z.maxLength(200)),
  /** A key group; absent or '': every group of the provider. */
  group: z.optional(z.union([z.literal(''), group])),
}
const SetLimitsBody = z.strictObject({
  ...Target,
  requestsPerMinute: figure,
  tokensPerMinute: figure,
  requestsPerDay: figure,
})
const DeleteLimitsBody = z.strictObject(Target)

/**
 * `GET /admin/api/limits?provider=`: each model's free-tier figures (the adapter's published table,
 * with when it was read, and the operator's overrides), and the requests left today per project and
 * across the pool, counted from the usage batches since the day began (midnight Pacific for Google).
 * The last STATS_FLUSH_SECONDS of traffic may not be counted yet.
 */
export async function getLimits(request: Request, env: Env): Promise<Response> {
  const { provider: id, projects } = parseQuery(new URL(request.url), LimitsQuery)
  const freeTier = PROVIDERS[id].freeTier
  const now = Date.now()
  const pacific = freeTier?.dayStartsIn !== 'UTC'
  const dayStart = pacific ? pacificDayStart(now) : now - (now % 86_400_000)
  const resetsAt = pacific ? now + secondsUntilPacificMidnight(now) * 1000 : dayStart + 86_400_000
  const since = Math.floor(dayStart / 1000)
  const [view, overrides, used] = await settleAll([
    adminView(env),
    limitOverrides(env.DB, id),
    countedSince(env.DB, id, since, now),
  ])
  const keys = view
    .list()
    .filter((k) => k.provider === id)
    .map((k) => ({ id: k.id, group: k.keyGroup, blocked: k.status === 'blocked' }))
  return Response.json({
    provider: id,
    freeTier: freeTier ? { readOn: freeTier.readOn, source: freeTier.source } : null,
    dayStart: Math.floor(dayStart / 1000),
    resetsAt: Math.floor(resetsAt / 1000),
    overrides,
    models: quotaLeft({ freeTier, overrides, keys, used }).map((m) =>
      projects === 'all' ? m : { ...m, perProject: undefined },
    ),
  })
}

/** `PUT /admin/api/limits`: a model's figures for every group or one; a figure null or left out is the default. */
export async function putLimits(request: Request, env: Env): Promise<Response> {
  const body = await adminBody(request, env, SetLimitsBody)
  await setLimitOverride(
    env.DB,
    body.provider,
    {
      model: toModelName(body.model),
      group: body.group ?? '',
      requestsPerMinute: body.requestsPerMinute ?? null,
      tokensPerMinute: body.tokensPerMinute ?? null,
      requestsPerDay: body.requestsPerDay ?? null,
    },
    Math.floor(Date.now() / 1000),
  )
  return Response.json({ overrides: await limitOverrides(env.DB, body.provider) })
}

/** `DELETE /admin/api/limits`: back to the published figures for that model and group. */
export async function deleteLimits(request: Request, env: Env): Promise<Response> {
  const body = await adminBody(request, env, DeleteLimitsBody)
  const id: ProviderId = body.provider
  if (!(await deleteLimitOverride(env.DB, id, toModelName(body.model), body.group ?? ''))) {
    throw new AppError(404, 'limit_not_found', `No limits set for ${body.model} in that group`)
  }
  return Response.json({ overrides: await limitOverrides(env.DB, id) })
}
