import { authenticate, authorize, clientCredential } from '../auth/client-auth'
import { loadConfig, requireGateway, type Env } from '../config'
import { AppError } from '../http/errors'
import { poolFor } from '../pool/pool'
import { PROVIDER_IDS } from '../providers/types'
import { adapterFor, isProviderId } from '../providers/registry'
import { forward } from './forward'
import { upstreamHeaders } from './headers'
import { extractModel, NO_MODEL } from './model'
import { buildTarget, parseRest } from './target'

const PREFIX = '/api/'

/** `ANY /api/<provider>/<rest>?<query>` → `${gateway}/<provider>/<rest>?<query>` with a pooled key. */
export async function proxyHandler(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const config = loadConfig(env)
  const url = new URL(request.url)
  const afterPrefix = url.pathname.slice(PREFIX.length)
  const slash = afterPrefix.indexOf('/')
  const provider = slash === -1 ? afterPrefix : afterPrefix.slice(0, slash)
  if (!isProviderId(provider)) {
    throw new AppError(
      404,
      'unknown_provider',
      `Unknown provider. Known providers: ${PROVIDER_IDS.join(', ')}`,
    )
  }
  const adapter = adapterFor(provider)
  const rest = parseRest(slash === -1 ? '' : afterPrefix.slice(slash + 1))

  // Authenticate before reading the body or touching D1: unauthenticated calls cost nothing.
  const entry = await authenticate(
    config.authKeys,
    clientCredential(request.headers, url, adapter),
    Date.now() / 1000,
  )
  const target = buildTarget(requireGateway(config), provider, rest, url.search)
  const body = request.method === 'GET' || request.method === 'HEAD' ? null : await request.arrayBuffer()
  const model = extractModel(adapter, rest, body)
  authorize(entry, provider, model)

  const pool = poolFor(env.DB, config.poolRefreshMs)
  const view = await pool.view(provider, (p) => ctx.waitUntil(p))
  return forward({
    config,
    pool,
    view,
    provider,
    adapter,
    model: model ?? NO_MODEL,
    target,
    method: request.method,
    headers: upstreamHeaders(request.headers),
    body: body && body.byteLength > 0 ? body : null,
  })
}
