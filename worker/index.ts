import { AutoRouter, type IRequest } from 'itty-router'
import { adminRouter } from './admin/admin.router'
import { runScheduled } from './health/scheduled'
import { compatRoute } from './compat/compat.router'
import { loadConfig, type Config, type Env } from './config'
import { preflight, withCors } from './http/cors'
import { discardUnread } from './http/body'
import { AppError, errorResponse } from './http/errors'
import { urlOf } from './http/url'
import { log } from './log'
import { proxyHandler } from './proxy/handler'

type Args = [Env, ExecutionContext]

/** D1 failing (overloaded, unreachable): the proxy keeps serving from its pool view; admin calls say so. */
const isStorageError = (err: unknown) => err instanceof Error && /\bD1_|D1 DB|SQLITE_/.test(err.message)

/** Every error becomes the same JSON shape; anything unexpected is logged and never shown (no stack). */
function toErrorResponse(err: unknown): Response {
  if (err instanceof AppError) return errorResponse(err)
  if (isStorageError(err)) {
    log('storage_unavailable', { error: (err as Error).message.slice(0, 200) })
    return errorResponse(
      new AppError(503, 'storage_unavailable', 'The key store is unavailable; try again shortly'),
    )
  }
  log('internal_error', { error: err instanceof Error ? err.message.slice(0, 300) : 'unknown' })
  return errorResponse(new AppError(500, 'internal_error', 'Internal error'))
}

/** CORS settings even when the rest of the configuration is broken (its error must reach the browser). */
function corsConfig(env: Env): Pick<Config, 'corsOrigins'> {
  try {
    return loadConfig(env)
  } catch {
    return { corsOrigins: '*' }
  }
}

/** The admin API and anything else that is not the client API. */
const router = AutoRouter<IRequest, Args>({
  catch: toErrorResponse,
  missing: () => errorResponse(new AppError(404, 'not_found', 'No such route')),
})
router.all('/admin/api/*', (req, env, ctx) => adminRouter.fetch(req, env, ctx))

/**
 * The client API, every model call: routed by hand, not through the router, whose per-request URL
 * parse, query object and request proxy cost more than all of keyrelay's own work on this path
 * (docs/profile.md). Every answer, errors included, carries CORS.
 */
async function clientApi(request: Request, env: Env, ctx: ExecutionContext, path: string): Promise<Response> {
  let response: Response
  try {
    if (request.method === 'OPTIONS') response = preflight(request, corsConfig(env))
    else if (path.startsWith('/api/compat/')) response = await compatRoute(request, env, ctx)
    else response = await proxyHandler(request, env, ctx)
  } catch (e) {
    response = toErrorResponse(e)
  }
  return withCors(response, request, corsConfig(env))
}

export default {
  fetch: async (request: Request, env: Env, ctx: ExecutionContext) => {
    const path = urlOf(request).pathname
    const response = await (path.startsWith('/api/')
      ? clientApi(request, env, ctx, path)
      : router.fetch(request, env, ctx))
    // Refused before its body was needed: read it first, so the connection stays usable (body.ts).
    if (response.status >= 400) await discardUnread(request)
    return response
  },
  // Returned, not waitUntil'd: the runtime keeps a scheduled invocation alive until it settles.
  scheduled: (_controller: ScheduledController, env: Env) => runScheduled(env),
} satisfies ExportedHandler<Env>
