import type { Env } from '../config'
import { AppError } from '../http/errors'
import { requireMethod } from '../http/methods'
import { urlOf } from '../http/url'
import { compatChat, compatEmbeddings, compatModels } from './compat.routes'
import { compatCountTokens } from './count-tokens'
import { compatMessages, compatResponses } from './dialects.routes'

type Handler = (request: Request, env: Env, ctx: ExecutionContext) => Promise<Response>

/** Every OpenAI-compatible route, by path after `/api/compat/` and method. */
const ROUTES: Record<string, Record<string, Handler>> = {
  'chat/completions': { POST: compatChat },
  embeddings: { POST: compatEmbeddings },
  models: { GET: compatModels },
  responses: { POST: compatResponses },
  messages: { POST: compatMessages },
  'messages/count_tokens': { POST: compatCountTokens },
}

const PREFIX = '/api/compat/'

/**
 * `/api/compat/<route>`, and `/api/compat/v1/<route>` alike: many clients (Cherry Studio, LobeChat,
 * Open WebUI) append `/v1` to whatever base URL they are given, and the Anthropic SDK given a base
 * URL that already ends in `/v1` asks for `…/v1/v1/messages`.
 */
export function compatRoute(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const path = urlOf(request)
    .pathname.slice(PREFIX.length)
    .replace(/^(v1\/){1,2}/, '')
  const methods = ROUTES[path]
  if (!methods) {
    throw new AppError(
      404,
      'not_found',
      `No such compat route. Set your client's base URL to https://<this worker>/api/compat (or …/api/compat/v1); the routes are ${Object.keys(ROUTES).join(', ')}`,
    )
  }
  requireMethod(request.method, Object.keys(methods))
  return (methods[request.method] as Handler)(request, env, ctx)
}
