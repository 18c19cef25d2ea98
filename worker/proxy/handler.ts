import { authorize, authorizeStored } from '../auth/client-auth'
import { requireGateway, type Env } from '../config'
import { requireMethod } from '../http/methods'
import { urlOf } from '../http/url'
import { adapterFor, isProviderId, QUERY_CREDENTIAL_PARAMS } from '../providers/registry'
import { callerScope, dispatch, unknownProvider } from './dispatch'
import { extractModel } from './model'
import { buildTarget, parseRest, stripParams } from './target'

const PREFIX = '/api/'

/** What providers' APIs use. Anything else (TRACE, CONNECT, WebDAV verbs…) is refused, never forwarded. */
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const

/** `ANY /api/<provider>/<rest>?<query>` → `${gateway}/<provider>/<rest>?<query>` with a pooled key. */
export async function proxyHandler(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  requireMethod(request.method, METHODS)
  const url = urlOf(request)
  const afterPrefix = url.pathname.slice(PREFIX.length)
  const slash = afterPrefix.indexOf('/')
  const provider = slash === -1 ? afterPrefix : afterPrefix.slice(0, slash)
  if (!isProviderId(provider)) throw unknownProvider()
  const adapter = adapterFor(provider)
  const rest = parseRest(slash === -1 ? '' : afterPrefix.slice(slash + 1))

  // Authenticate before reading the body or touching D1: unauthenticated calls cost nothing.
  const scope = await callerScope(request, env, ctx, adapter)
  const gatewayBase = requireGateway(scope.config)
  const target = buildTarget(gatewayBase, provider, rest, stripParams(url.search, QUERY_CREDENTIAL_PARAMS))
  const body = request.method === 'GET' || request.method === 'HEAD' ? null : await request.arrayBuffer()
  const model = extractModel(adapter, rest, body)
  authorize(scope.entry, provider, model)
  if (adapter.storedObjects?.(rest, request.method)) authorizeStored(scope.entry, scope.config.storedObjects)
  return dispatch(scope, { provider, adapter, model, url: target, method: request.method, body })
}
