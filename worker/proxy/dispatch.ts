import type { AuthEntry } from '../auth/auth-key'
import { authenticate, clientCredential, type CredentialPlace } from '../auth/client-auth'
import { clientAddress } from '../auth/throttle'
import { loadConfig, type Config, type Env } from '../config'
import { NO_MODEL } from '../db/cooldowns'
import { AppError } from '../http/errors'
import { urlOf } from '../http/url'
import { alertsFor } from '../health/alerts'
import { proofsFor } from '../health/proof'
import { keyStateFor } from '../pool/key-state'
import { poolFor } from '../pool/pool'
import { PROVIDER_IDS } from '../providers/types'
import { statsFor } from '../stats/buffer'
import { setCacheKey } from './cache-key'
import { forward } from './forward'
import type { Route, Upstream } from './route'
import { clientMetadata, upstreamHeaders, type Metadata } from './headers'

/** What every route has once it has authenticated the caller. */
export interface RequestScope {
  env: Env
  ctx: ExecutionContext
  config: Config
  /** The AUTH_KEY entry the caller authenticated as. */
  entry: AuthEntry
  /** The client's headers minus credentials, hop-by-hop, edge and disallowed gateway headers. */
  clientHeaders: Headers
  /** The client's own `cf-aig-metadata` entries, merged with keyrelay's on every upstream call. */
  metadata: Metadata
}

/**
 * Authenticates the caller (AUTH_KEY where `place` says, or as a Bearer token) before anything else
 * is read, then gathers what every route needs. Unauthenticated calls cost no body read and no D1.
 */
export function callerScope(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  place: CredentialPlace = {},
): RequestScope {
  const config = loadConfig(env)
  const credential = clientCredential(request.headers, urlOf(request), place)
  const entry = authenticate(config.authKeys, credential, {
    nowSeconds: Date.now() / 1000,
    client: clientAddress(request.headers),
  })
  return {
    env,
    ctx,
    config,
    entry,
    clientHeaders: upstreamHeaders(request.headers, config.clientGatewayHeaders),
    metadata: clientMetadata(request.headers, config.clientGatewayHeaders),
  }
}

/** The part every route shares: the provider's pool view, then attempts over its keys. */
export async function dispatch(scope: RequestScope, upstream: Upstream): Promise<Response> {
  const { env, ctx, config } = scope
  const pool = poolFor(env.DB, config)
  const stats = statsFor(env.DB, config.statsFlushMs)
  const waitUntil = (p: Promise<unknown>) => ctx.waitUntil(p)
  const view = await pool.view(upstream.provider, waitUntil)
  const route: Route = {
    ...upstream,
    model: upstream.model ?? NO_MODEL,
    method: upstream.method ?? 'POST',
    // A copy per dispatch: each attempt sets its key on it (upstream.ts), and a request that
    // dispatches twice (a fallback to another provider) must not carry the first provider's key.
    headers: new Headers(upstream.headers ?? scope.clientHeaders),
    body: upstream.body && upstream.body.byteLength > 0 ? upstream.body : null,
    metadata: scope.metadata,
    quiet: upstream.quiet ?? false,
  }
  await setCacheKey(route.headers, scope.entry, route)
  try {
    const keys = keyStateFor(env.DB, config)
    const alerts = alertsFor(env.DB, config)
    return await forward({
      config,
      keys,
      view,
      stats,
      route,
      alerts,
      background: waitUntil,
      catchUp: (withinMs) => pool.refreshIfOlder(upstream.provider, withinMs, waitUntil),
      prove: async ({ id, sealed }) => {
        const suspect = { id, provider: upstream.provider, key: sealed }
        const report = await proofsFor(env.DB, config).prove(suspect)
        return report?.result === 'valid' || report?.result === 'invalid' ? report.result : undefined
      },
    })
  } finally {
    stats.schedule(waitUntil)
  }
}

export function unknownProvider(): AppError {
  return new AppError(
    404,
    'unknown_provider',
    `Unknown provider. Known providers: ${PROVIDER_IDS.join(', ')}`,
  )
}
