import { authenticate, authorize, clientCredential } from '../auth/client-auth'
import { loadConfig, requireGateway, type Env } from '../config'
import { AppError } from '../http/errors'
import { PROVIDERS } from '../providers/registry'
import { dispatch } from '../proxy/dispatch'
import { upstreamHeaders } from '../proxy/headers'
import { readCompatBody } from './compat-body'
import { bearerAdapterFor } from './compat-adapter'
import { listCompatModels } from './models'

/**
 * OpenAI-compatible surface: clients set their base URL to `https://<worker>/api/compat` and name
 * models `<provider>/<model>`. Cooldowns are kept per (key, provider model), exactly as on the
 * provider's native route, so both routes share what they learn about a key.
 */
async function caller(request: Request, env: Env) {
  const config = loadConfig(env)
  const credential = clientCredential(request.headers, new URL(request.url), PROVIDERS.openai)
  const entry = await authenticate(config.authKeys, credential, Date.now() / 1000)
  return { config, entry, gatewayBase: requireGateway(config) }
}

/** `POST /api/compat/chat/completions` → `${gateway}/compat/chat/completions`, body unchanged. */
export async function compatChat(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const { config, entry, gatewayBase } = await caller(request, env)
  const body = await readCompatBody(request)
  authorize(entry, body.provider, body.model)
  return dispatch({
    env,
    ctx,
    config,
    provider: body.provider,
    // AI Gateway's unified endpoint takes every provider's key as a Bearer token.
    adapter: bearerAdapterFor(body.provider),
    model: body.model,
    target: `${gatewayBase}/compat/chat/completions`,
    method: 'POST',
    headers: upstreamHeaders(request.headers),
    body: body.raw,
  })
}

/**
 * `POST /api/compat/embeddings`: the gateway's unified endpoint has no embeddings, so the request goes
 * to the provider's own OpenAI-style embeddings endpoint with the bare model name.
 */
export async function compatEmbeddings(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const { config, entry, gatewayBase } = await caller(request, env)
  const body = await readCompatBody(request)
  authorize(entry, body.provider, body.model)
  const adapter = PROVIDERS[body.provider]
  if (!adapter.embeddingsPath) {
    const supported = Object.entries(PROVIDERS)
      .filter(([, a]) => a.embeddingsPath)
      .map(([id]) => id)
    throw new AppError(
      400,
      'embeddings_unsupported',
      `Provider ${body.provider} has no OpenAI-style embeddings endpoint; use one of: ${supported.join(', ')}`,
    )
  }
  const headers = upstreamHeaders(request.headers)
  headers.set('content-type', 'application/json')
  return dispatch({
    env,
    ctx,
    config,
    provider: body.provider,
    adapter,
    model: body.model,
    target: `${gatewayBase}/${body.provider}/${adapter.embeddingsPath}`,
    method: 'POST',
    headers,
    body: new TextEncoder().encode(JSON.stringify({ ...body.json, model: body.model })).buffer as ArrayBuffer,
  })
}

/** `GET /api/compat/models`: what this caller may use, gathered from each provider with keys. */
export async function compatModels(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const { config, entry, gatewayBase } = await caller(request, env)
  return Response.json(await listCompatModels({ env, ctx, config, gatewayBase, entry }))
}
