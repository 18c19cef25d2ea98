import { mayStore, storedObjectsDisabled } from '../auth/client-auth'
import { requireGateway, type Env } from '../config'
import { AppError } from '../http/errors'
import { PROVIDERS } from '../providers/registry'
import type { ProviderAdapter } from '../providers/types'
import { callerScope, dispatch, type RequestScope } from '../proxy/dispatch'
import { bearerAdapterFor } from './compat-adapter'
import { type CompatRequest } from './compat-body'
import { readCompatCall, throughTargets } from './fallback'
import { jsonBytes, type ChatRequest } from './dialects/chat'
import { anthropicError, chatToMessage, errorMessage, messagesToChat } from './dialects/messages'
import { MessagesStream } from './dialects/messages-stream'
import { chatToResponse, responseContext, responsesToChat } from './dialects/responses'
import { ResponsesStream } from './dialects/responses-stream'
import { ChatCompletion } from './dialects/shapes'
import { lineTranslator, translateStream, type StreamTranslator } from './dialects/sse'
import { rewritten } from '../proxy/stream-guard'
import { conversationInBody } from '../proxy/conversation'

type Json = Record<string, unknown>

/**
 * An API dialect served over every provider's pool: natively where the provider speaks it (its
 * adapter names the endpoint), otherwise translated to Chat Completions and back. Either way the
 * request runs through the same attempts, cooldowns and blocks as every other route.
 */
interface Dialect {
  /** The provider's own endpoint for this dialect, if it has one. */
  native(adapter: ProviderAdapter): string | undefined
  /** The client's body (any JSON: the translation checks its shape) as Chat Completions. */
  toChat(body: unknown, model: string): ChatRequest
  fromChat(chat: ChatCompletion, body: CompatRequest): Json
  stream(body: CompatRequest): StreamTranslator
  /**
   * The client's body for the native endpoint; `mayStore`: whether this client may keep objects on
   * the provider account (STORED_OBJECTS). Default: unchanged.
   */
  nativeBody?(json: Json, mayStore: boolean): Json
  /** Headers the native endpoint insists on when the client sent none. */
  nativeHeaders?: Record<string, string>
  /** An error body in this dialect's shape; OpenAI's shape when undefined. */
  error?(status: number, message: string): Json
}

const RESPONSES: Dialect = {
  native: (a) => a.responsesPath,
  // OpenAI stores a response unless told not to, on the pool key's account: where any client holding
  // its id could read it. A client that may not store gets `store: false`; asking for it is refused.
  nativeBody: (json, mayStore) => {
    if (mayStore) return json
    if (json.store === true) throw storedObjectsDisabled()
    return { ...json, store: false }
  },
  toChat: responsesToChat,
  fromChat: (chat, body) => chatToResponse(chat, responseContext(body.json, body.json.model)),
  stream: (body) => new ResponsesStream(responseContext(body.json, body.json.model)),
}

const MESSAGES: Dialect = {
  native: (a) => a.messagesPath,
  toChat: messagesToChat,
  fromChat: (chat, body) => chatToMessage(chat, body.json.model),
  stream: (body) => new MessagesStream(body.json.model),
  nativeHeaders: { 'anthropic-version': '2023-06-01' },
  error: anthropicError,
}

/** `POST /api/compat/responses`: OpenAI's Responses API for every provider. */
export const compatResponses = async (request: Request, env: Env, ctx: ExecutionContext) =>
  serve(RESPONSES, await callerScope(request, env, ctx), request)

type Route = (request: Request, env: Env, ctx: ExecutionContext) => Promise<Response>

/**
 * A route of Anthropic's dialect: AUTH_KEY as `x-api-key` (the Anthropic SDK, Claude Code) or a
 * Bearer token, and keyrelay's own errors in Anthropic's shape, which its SDK turns into typed errors.
 */
export const anthropicDialect =
  (serveWith: (scope: RequestScope, request: Request) => Promise<Response>): Route =>
  async (request, env, ctx) => {
    try {
      return await serveWith(await callerScope(request, env, ctx, { authHeader: 'x-api-key' }), request)
    } catch (e) {
      if (!(e instanceof AppError)) throw e
      return Response.json(anthropicError(e.status, e.message, e.code), {
        status: e.status,
        headers: e.headers,
      })
    }
  }

/** `POST /api/compat/messages`: Anthropic's Messages API for every provider. */
export const compatMessages = anthropicDialect((scope, request) => serve(MESSAGES, scope, request))

async function serve(dialect: Dialect, scope: RequestScope, request: Request): Promise<Response> {
  const gatewayBase = requireGateway(scope.config)
  const call = await readCompatCall(request, scope)
  scope.clientHeaders.set('content-type', 'application/json')
  return throughTargets(scope, call, (body) => serveTarget(dialect, scope, gatewayBase, body))
}

/** One provider and model: its native endpoint for the dialect, or Chat Completions translated. */
async function serveTarget(
  dialect: Dialect,
  scope: RequestScope,
  gatewayBase: string,
  body: CompatRequest,
): Promise<Response> {
  const adapter = PROVIDERS[body.provider]
  const nativePath = dialect.native(adapter)
  if (nativePath) {
    // Per target: a fallback to another provider must not carry this one's headers.
    const headers = new Headers(scope.clientHeaders)
    for (const [name, value] of Object.entries(dialect.nativeHeaders ?? {})) {
      if (!headers.has(name)) headers.set(name, value)
    }
    return dispatch(scope, {
      provider: body.provider,
      adapter,
      headers,
      model: body.model,
      conversation: conversationInBody(body.json),
      url: `${gatewayBase}/${body.provider}/${nativePath}`,
      body: jsonBytes({
        ...(dialect.nativeBody?.(body.json, mayStore(scope.entry, scope.config.storedObjects)) ?? body.json),
        model: body.model,
      }),
    })
  }
  const chat = dialect.toChat(body.json, body.json.model)
  const res = await dispatch(scope, {
    // A streamed answer is translated in the pass that relays it (proxy/stream-guard.ts).
    rewriteStream: () => lineTranslator(dialect.stream(body)),
    provider: body.provider,
    // AI Gateway's unified endpoint takes every provider's key as a Bearer token.
    adapter: bearerAdapterFor(body.provider),
    model: body.model,
    conversation: conversationInBody(body.json),
    url: `${gatewayBase}/compat/chat/completions`,
    body: jsonBytes(chat),
  })
  return fromChatResponse(dialect, body, res)
}

async function fromChatResponse(dialect: Dialect, body: CompatRequest, res: Response): Promise<Response> {
  if (res.status >= 400) {
    if (!dialect.error) return res
    const message = errorMessage(await res.json().catch(() => undefined), res.status)
    return Response.json(dialect.error(res.status, message), {
      status: res.status,
      headers: relayedHeaders(res),
    })
  }
  if (res.body && (res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const headers = relayedHeaders(res)
    headers.set('content-type', 'text/event-stream; charset=utf-8')
    headers.set('cache-control', 'no-cache')
    const stream = rewritten.has(res) ? res.body : translateStream(res.body, dialect.stream(body))
    return new Response(stream, { status: res.status, headers })
  }
  const chat = ChatCompletion.safeParse(await res.json().catch(() => undefined))
  if (!chat.success) {
    throw new AppError(502, 'upstream_invalid', 'The upstream answer was not a chat completion')
  }
  return Response.json(dialect.fromChat(chat.data, body), {
    status: res.status,
    headers: relayedHeaders(res),
  })
}

/** Upstream's headers worth keeping on a translated answer: request ids, rate limits, Retry-After. */
function relayedHeaders(res: Response): Headers {
  const out = new Headers()
  res.headers.forEach((value, name) => {
    if (
      /^(retry-after|x-request-id|request-id|x-ratelimit-.*|anthropic-ratelimit-.*|cf-aig-.*)$/i.test(name)
    ) {
      out.set(name, value)
    }
  })
  return out
}
