import { AutoRouter, type IRequest } from 'itty-router'
import { adminRouter } from './admin/admin.router'
import { runScheduled } from './health/scheduled'
import { compatChat, compatEmbeddings, compatModels } from './compat/compat.routes'
import type { Env } from './config'
import { AppError, errorResponse } from './http/errors'
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

const router = AutoRouter<IRequest, Args>({
  catch: toErrorResponse,
  missing: () => errorResponse(new AppError(404, 'not_found', 'No such route')),
})

router
  .all('/admin/api/*', (req, env, ctx) => adminRouter.fetch(req, env, ctx))
  .post('/api/compat/chat/completions', (req, env, ctx) => compatChat(req, env, ctx))
  .post('/api/compat/embeddings', (req, env, ctx) => compatEmbeddings(req, env, ctx))
  .get('/api/compat/models', (req, env, ctx) => compatModels(req, env, ctx))
  .all('/api/compat/*', () => errorResponse(new AppError(404, 'not_found', 'No such compat route')))
  .all('/api/*', (req, env, ctx) => proxyHandler(req, env, ctx))

export default {
  fetch: (request: Request, env: Env, ctx: ExecutionContext) => router.fetch(request, env, ctx),
  // Returned, not waitUntil'd: the runtime keeps a scheduled invocation alive until it settles.
  scheduled: (_controller: ScheduledController, env: Env) => runScheduled(env),
} satisfies ExportedHandler<Env>
