import { authenticate, authorize, clientCredential } from '../auth/client-auth'
import { requireGateway, type Env } from '../config'
import { adapterFor, isProviderId, QUERY_CREDENTIAL_PARAMS } from '../providers/registry'
import { dispatch, requestScope, unknownProvider } from './dispatch'
import { extractModel } from './model'
import { buildTarget, parseRest, stripParams } from './target'

const PREFIX = '/api/'

/** `ANY /api/<provider>/<rest>?<query>` → `${gateway}/<provider>/<rest>?<query>` with a pooled key. */
export async function proxyHandler(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const scope = requestScope(request, env, ctx)
  const url = new URL(request.url)
  const afterPrefix = url.pathname.slice(PREFIX.length)
  const slash = afterPrefix.indexOf('/')
  const provider = slash === -1 ? afterPrefix : afterPrefix.slice(0, slash)
  if (!isProviderId(provider)) throw unknownProvider()
  const adapter = adapterFor(provider)
  const rest = parseRest(slash === -1 ? '' : afterPrefix.slice(slash + 1))

  // Authenticate before reading the body or touching D1: unauthenticated calls cost nothing.
  const credential = clientCredential(request.headers, url, adapter)
  const entry = await authenticate(scope.config.authKeys, credential, Date.now() / 1000)
  const gatewayBase = requireGateway(scope.config)
  const search = stripParams(url.search, QUERY_CREDENTIAL_PARAMS)
  const target = buildTarget(gatewayBase, provider, rest, search)
  const body = request.method === 'GET' || request.method === 'HEAD' ? null : await request.arrayBuffer()
  const model = extractModel(adapter, rest, body)
  authorize(entry, provider, model)
  return dispatch(scope, { provider, adapter, model, url: target, method: request.method, body })
}
