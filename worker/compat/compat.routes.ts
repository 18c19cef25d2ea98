import { authorize } from '../auth/client-auth'
import { requireGateway, type Env } from '../config'
import { AppError } from '../http/errors'
import { EMBEDDING_PROVIDERS, PROVIDERS } from '../providers/registry'
import type { ProviderAdapter } from '../providers/types'
import { callerScope, dispatch, type RequestScope } from '../proxy/dispatch'
import { rewritten, type TextRewrite } from '../proxy/stream-guard'
import { readCompatBody, type CompatRequest } from './compat-body'
import { bearerAdapterFor } from './compat-adapter'
import { jsonBytes } from './dialects/chat'
import { listCompatModels } from './models'
import { askForUsage, dropUsageChunk, usageDropper } from './usage-option'
import { readCompatCall, throughTargets } from './fallback'
import { conversationInBody } from '../proxy/conversation'

/**
 * OpenAI-compatible surface: clients set their base URL to `https://<worker>/api/compat` and name
 * models `<provider>/<model>`. Cooldowns are kept per (key, provider model), exactly as on the
 * provider's native route, so both routes share what they learn about a key. AUTH_KEY comes as a
 * Bearer token, as every OpenAI client sends its API key.
 */
async function caller(request: Request, env: Env, ctx: ExecutionContext) {
  const scope = await callerScope(request, env, ctx)
  return { scope, entry: scope.entry, gatewayBase: requireGateway(scope.config) }
}

/** Sends a compat body to `url` with keys of the model's provider, sent the way `adapter` says. */
function send(
  scope: RequestScope,
  body: CompatRequest,
  adapter: ProviderAdapter,
  url: string,
  payload: ArrayBuffer,
  rewriteStream?: () => TextRewrite,
) {
  const conversation = conversationInBody(body.json)
  return dispatch(scope, {
    provider: body.provider,
    adapter,
    model: body.model,
    conversation,
    url,
    body: payload,
    ...(rewriteStream ? { rewriteStream } : {}),
  })
}

/**
 * `POST /api/compat/chat/completions` → `${gateway}/compat/chat/completions`, body unchanged but for
 * `stream_options.include_usage` on a stream that did not ask for usage (usage-option.ts).
 */
export async function compatChat(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const { scope, gatewayBase } = await caller(request, env, ctx)
  const call = await readCompatCall(request, scope)
  return throughTargets(scope, call, async (body) => {
    const { payload, injected } = askForUsage(body.json, body.raw)
    // AI Gateway's unified endpoint takes every provider's key as a Bearer token.
    const res = await send(
      scope,
      body,
      bearerAdapterFor(body.provider),
      `${gatewayBase}/compat/chat/completions`,
      payload,
      // The usage chunk asked for on the client's behalf goes in the pass that relays the stream.
      injected ? usageDropper : undefined,
    )
    return injected && !rewritten.has(res) ? dropUsageChunk(res) : res
  })
}

/**
 * `POST /api/compat/embeddings`: the gateway's unified endpoint has no embeddings, so the request goes
 * to the provider's own OpenAI-style embeddings endpoint with the bare model name.
 */
export async function compatEmbeddings(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const { scope, entry, gatewayBase } = await caller(request, env, ctx)
  const body = await readCompatBody(request, scope.config.maxBodyBytes)
  authorize(entry, body.provider, body.model)
  const adapter = PROVIDERS[body.provider]
  if (!adapter.embeddingsPath) {
    throw new AppError(
      400,
      'embeddings_unsupported',
      `Provider ${body.provider} has no OpenAI-style embeddings endpoint; use one of: ${EMBEDDING_PROVIDERS.join(', ')}`,
    )
  }
  scope.clientHeaders.set('content-type', 'application/json')
  const payload = jsonBytes({ ...body.json, model: body.model })
  return send(scope, body, adapter, `${gatewayBase}/${body.provider}/${adapter.embeddingsPath}`, payload)
}

/** `GET /api/compat/models`: what this caller may use, gathered from each provider with keys. */
export async function compatModels(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const { scope, entry, gatewayBase } = await caller(request, env, ctx)
  return Response.json(await listCompatModels({ scope, gatewayBase, entry }))
}
