import { loadConfig, type Config, type Env } from '../config'
import { AppError } from '../http/errors'
import { keyStateFor } from '../pool/key-state'
import { poolFor } from '../pool/pool'
import type { ProviderAdapter, ProviderId } from '../providers/types'
import { PROVIDER_IDS } from '../providers/types'
import { statsFor } from '../stats/buffer'
import { forward } from './forward'
import { upstreamHeaders } from './headers'
import { NO_MODEL } from './model'

/** What every route has once it has authenticated the caller. */
export interface RequestScope {
  env: Env
  ctx: ExecutionContext
  config: Config
  /** The client's headers minus credentials, hop-by-hop and edge headers: what upstream may see. */
  clientHeaders: Headers
}

export function requestScope(request: Request, env: Env, ctx: ExecutionContext): RequestScope {
  return { env, ctx, config: loadConfig(env), clientHeaders: upstreamHeaders(request.headers) }
}

/** Where a route sends a request, once it knows provider, model and target. */
export interface Upstream {
  provider: ProviderId
  /** How keys are sent and errors read (the compat endpoint sends every provider's key as Bearer). */
  adapter: ProviderAdapter
  /** The model as the provider names it: the cooldown scope. */
  model: string | undefined
  url: string
  /** Default POST. */
  method?: string
  /** Default: the client's headers (RequestScope.clientHeaders). */
  headers?: Headers
  /** Read once, replayed byte-identical on every attempt. */
  body: ArrayBuffer | null
}

/** The part every route shares: the provider's pool view, then attempts over its keys. */
export async function dispatch(scope: RequestScope, upstream: Upstream): Promise<Response> {
  const { env, ctx, config } = scope
  const pool = poolFor(env.DB, config.poolRefreshMs)
  const stats = statsFor(env.DB, config.statsFlushMs)
  const view = await pool.view(upstream.provider, (p) => ctx.waitUntil(p))
  try {
    return await forward({
      config,
      keys: keyStateFor(env.DB, config.poolRefreshMs),
      view,
      stats,
      route: {
        ...upstream,
        model: upstream.model ?? NO_MODEL,
        method: upstream.method ?? 'POST',
        headers: upstream.headers ?? scope.clientHeaders,
        body: upstream.body && upstream.body.byteLength > 0 ? upstream.body : null,
      },
    })
  } finally {
    stats.schedule((p) => ctx.waitUntil(p))
  }
}

export function unknownProvider(): AppError {
  return new AppError(
    404,
    'unknown_provider',
    `Unknown provider. Known providers: ${PROVIDER_IDS.join(', ')}`,
  )
}
