import { aliasBookFor } from '../aliases/book'
import { entryAllows } from '../auth/auth-key'
import { authorize } from '../auth/client-auth'
import { AppError } from '../http/errors'
import type { RequestScope } from '../proxy/dispatch'
import { readCompatJson, splitModelId, type CompatRequest } from './compat-body'
import { jsonBytes } from './dialects/chat'

/** A compat request: the model it names, or each target of the alias it names, in order. */
export interface CompatCall {
  alias?: string
  targets: CompatRequest[]
}

/** Answers from keyrelay itself that say a target cannot serve now: the alias tries its next one. */
const CANNOT_SERVE = new Set(['all_keys_cooling', 'all_keys_blocked', 'no_keys'])

/**
 * Reads a compat body whose model is `<provider>/<model>` or an alias (a name without `/`, from this
 * isolate's view: aliases/book.ts, no D1 read per request). Each target gets the body with its own
 * model, as the client would have sent it.
 */
export async function readCompatCall(request: Request, scope: RequestScope): Promise<CompatCall> {
  const { raw, json } = await readCompatJson(request, scope.config.maxBodyBytes)
  if (json.model.includes('/')) {
    const { provider, model } = splitModelId(json.model)
    return { targets: [{ raw, json, provider, model }] }
  }
  const book = aliasBookFor(scope.env.DB, scope.config.poolRefreshMs)
  const names = await book.resolve(json.model, Date.now(), (p) => scope.ctx.waitUntil(p))
  if (!names) {
    throw new AppError(
      404,
      'model_not_found',
      'Models on this route are named <provider>/<model> (e.g. openai/gpt-4o-mini) or by an alias the operator defined',
    )
  }
  return {
    alias: json.model,
    targets: names.map((id) => {
      const { provider, model } = splitModelId(id)
      const own = { ...json, model: id }
      return { raw: jsonBytes(own), json: own, provider, model }
    }),
  }
}

/**
 * Runs `call` on its model, or on its alias's targets in order: the next one when a target cannot
 * serve (every key cooling or blocked, or attempts used up on limited and dead keys), never on the
 * caller's own 4xx. A client key's restrictions apply to each target, not to the alias's name. The
 * answer says which target served (`x-keyrelay-route`).
 */
export async function throughTargets(
  scope: RequestScope,
  call: CompatCall,
  run: (target: CompatRequest) => Promise<Response>,
): Promise<Response> {
  if (!call.alias) {
    const target = call.targets[0] as CompatRequest
    authorize(scope.entry, target.provider, target.model)
    return run(target)
  }
  const allowed = call.targets.filter((t) => entryAllows(scope.entry, t.provider, t.model))
  if (allowed.length === 0) {
    throw new AppError(
      403,
      'auth_key_forbidden',
      `This key is not allowed to use any target of ${call.alias}`,
    )
  }
  for (const [i, target] of allowed.entries()) {
    const last = i === allowed.length - 1
    scope.exhausted = false
    let res: Response
    try {
      res = await run(target)
    } catch (e) {
      if (!last && e instanceof AppError && CANNOT_SERVE.has(e.code)) continue
      throw e
    }
    if (!last && scope.exhausted) {
      await res.body?.cancel()
      continue
    }
    const routed = new Response(res.body, res)
    routed.headers.set('x-keyrelay-route', `${target.provider}/${target.model}`)
    return routed
  }
  throw new AppError(500, 'internal_error', 'No target was tried')
}
