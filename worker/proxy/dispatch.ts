import type { AuthEntry } from '../auth/auth-key'
import { authenticate, clientCredential, isOwnSecret, type CredentialPlace } from '../auth/client-auth'
import { clientAddress } from '../auth/throttle'
import { clientBookFor } from '../clients/book'
import { ledgerFor } from '../clients/ledger'
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
import { tallyFor } from '../pool/day-tally'
import { boundedWait } from './lessons'
import { setCacheKey } from './cache-key'
import { exhaustedAnswers, forward } from './forward'
import type { Route, Upstream } from './route'
import { affinityOf, conversationInHeaders } from './conversation'
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
  /** Whether a client key's request has been counted against its quotas (see admit). */
  admitted: boolean
  /** Whether the last dispatch used up its attempts on limited or dead keys (forward.ts). */
  exhausted: boolean
}

/**
 * Authenticates the caller (AUTH_KEY where `place` says, or as a Bearer token) before anything else
 * is read, then gathers what every route needs. Unauthenticated calls cost no body read, and D1 only
 * when this isolate's view of the client keys is cold or stale (clients/book.ts).
 */
export async function callerScope(
  request: Request,
  env: Env,
  ctx: ExecutionContext,
  place: CredentialPlace = {},
): Promise<RequestScope> {
  const config = loadConfig(env)
  const credential = clientCredential(request.headers, urlOf(request), place)
  const book = clientBookFor(env.DB, config.poolRefreshMs)
  const now = Date.now()
  const waitUntil = (p: Promise<unknown>) => ctx.waitUntil(p)
  // An AUTH_KEY caller never waits for the client keys' view; a client key waits only for a view
  // that is cold or older than POOL_REFRESH_SECONDS, or that does not know it yet (a key issued
  // since), and refreshes a merely ageing one behind it.
  if (
    credential &&
    (book.mustRead(now) || book.mayBeNew(credential, now)) &&
    !isOwnSecret(config.authKeys, credential)
  ) {
    await book.read(now, waitUntil)
  }
  const entry = authenticate(
    config.authKeys,
    credential,
    { nowSeconds: now / 1000, client: clientAddress(request.headers) },
    book,
  )
  if (entry.client) book.freshen(now, waitUntil)
  return {
    env,
    ctx,
    config,
    entry,
    clientHeaders: upstreamHeaders(request.headers, config.clientGatewayHeaders),
    metadata: clientMetadata(request.headers, config.clientGatewayHeaders),
    admitted: false,
    exhausted: false,
  }
}

/**
 * A client key's request is admitted (its quotas checked, the request counted) once, before its
 * first upstream call: after the route has authorised the provider and model, so a refused request
 * costs no quota, and never for a models list, which is not traffic.
 */
async function admit(scope: RequestScope, upstream: Upstream): Promise<void> {
  const client = scope.entry.client
  if (!client || scope.admitted || upstream.quiet) return
  scope.admitted = true
  const ledger = ledgerFor(scope.env.DB, scope.config.statsFlushMs)
  await ledger.admit(client, Date.now(), (p) => scope.ctx.waitUntil(p))
}

/** The part every route shares: the provider's pool view, then attempts over its keys. */
export async function dispatch(scope: RequestScope, upstream: Upstream): Promise<Response> {
  const { env, ctx, config } = scope
  await admit(scope, upstream)
  const pool = poolFor(env.DB, config)
  const stats = statsFor(env.DB, config.statsFlushMs)
  const waitUntil = (p: Promise<unknown>) => ctx.waitUntil(p)
  const view = await pool.view(upstream.provider, waitUntil)
  // Near a project's daily figure, what other isolates counted is read before the pick (day-tally.ts).
  const tally = tallyFor(env.DB, config.statsFlushMs)
  const counted = tally.freshen(upstream.provider, upstream.model ?? NO_MODEL, view, Date.now(), waitUntil)
  if (counted) await boundedWait(counted)
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
    affinity: affinityFor(scope, upstream),
  }
  await setCacheKey(route.headers, scope.entry, route)
  const started = Date.now()
  let status = 500
  try {
    const keys = keyStateFor(env.DB, config)
    const alerts = alertsFor(env.DB, config)
    const res = await forward({
      config,
      keys,
      view,
      spent: tally.spentFor(route.provider, route.model, view, Date.now()),
      stats,
      route,
      alerts,
      background: waitUntil,
      tokens: (keyId, tokens) => {
        stats.recordTokens({ keyId, provider: route.provider, model: route.model }, tokens)
        const client = scope.entry.client
        if (client) ledgerFor(env.DB, config.statsFlushMs).countTokens(client.id, tokens)
        // The body ends after the request's own schedule ran: the counts need a flush of their own.
        stats.schedule(waitUntil)
      },
      catchUp: (withinMs) => pool.refreshIfOlder(upstream.provider, withinMs, waitUntil),
      prove: async ({ id, sealed }) => {
        const suspect = { id, provider: upstream.provider, key: sealed }
        const report = await proofsFor(env.DB, config).prove(suspect)
        if (report?.result === 'invalid') stats.recordBlock(route)
        return report?.result === 'valid' || report?.result === 'invalid' ? report.result : undefined
      },
    })
    scope.exhausted = exhaustedAnswers.has(res)
    status = res.status
    return res
  } catch (e) {
    if (e instanceof AppError) status = e.status
    throw e
  } finally {
    // Until the answer's headers (a JSON answer read whole first): what the client waited.
    stats.recordRequest({ provider: route.provider, model: route.model, status, ms: Date.now() - started })
    stats.schedule(waitUntil)
  }
}

/** The conversation's hash: from the client's session headers, else what the route read in its body. */
function affinityFor(scope: RequestScope, upstream: Upstream): number | undefined {
  if (!scope.config.sessionAffinity) return undefined
  const id = conversationInHeaders(scope.clientHeaders) ?? upstream.conversation
  return id === undefined ? undefined : affinityOf(id)
}

export function unknownProvider(): AppError {
  return new AppError(
    404,
    'unknown_provider',
    `Unknown provider. Known providers: ${PROVIDER_IDS.join(', ')}`,
  )
}
