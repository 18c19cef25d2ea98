import type { Config } from '../config'

/**
 * CORS for the client API (`/api/*`), so browser apps can call keyrelay with a Bearer AUTH_KEY.
 * These routes use no cookies, so `*` is safe and the default; CORS_ORIGINS narrows it to a list.
 * The admin API and the dashboard grant nothing cross-origin (their session cookie is SameSite).
 */
const EXPOSED = [
  'retry-after',
  'x-request-id',
  'request-id',
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
  'anthropic-ratelimit-requests-remaining',
  'anthropic-ratelimit-tokens-remaining',
  'anthropic-ratelimit-requests-reset',
  'anthropic-ratelimit-tokens-reset',
  'cf-aig-cache-status',
  'cf-aig-log-id',
  // keyrelay's own: which alias target served, and a token count that is an estimate.
  'x-keyrelay-route',
  'x-keyrelay-estimate',
].join(', ')

const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE, HEAD'

/** The value for Access-Control-Allow-Origin, or undefined when this origin gets nothing. */
function allowOrigin(config: Pick<Config, 'corsOrigins'>, origin: string | null): string | undefined {
  if (config.corsOrigins === '*') return '*'
  return origin !== null && config.corsOrigins.has(origin) ? origin : undefined
}

/** `OPTIONS /api/*`: answered here, never forwarded. */
export function preflight(request: Request, config: Pick<Config, 'corsOrigins'>): Response {
  const headers = new Headers({ allow: `${ALLOWED_METHODS}, OPTIONS`, vary: 'Origin' })
  const origin = allowOrigin(config, request.headers.get('origin'))
  if (origin) {
    headers.set('access-control-allow-origin', origin)
    headers.set('access-control-allow-methods', ALLOWED_METHODS)
    headers.set(
      'access-control-allow-headers',
      request.headers.get('access-control-request-headers') ?? 'authorization, content-type',
    )
    headers.set('access-control-max-age', '86400')
  }
  return new Response(null, { status: 204, headers })
}

/**
 * Adds CORS to an `/api/*` answer (errors included), so a browser lets the page read it. Only a
 * request with an `Origin` is a browser's cross-origin call: the answer to any other is left as it
 * is (copying it would cost every SDK call for nothing).
 */
export function withCors(
  response: Response,
  request: Request,
  config: Pick<Config, 'corsOrigins'>,
): Response {
  const requestOrigin = request.headers.get('origin')
  if (requestOrigin === null) return response
  const origin = allowOrigin(config, requestOrigin)
  if (!origin) return response
  const out = new Response(response.body, response)
  out.headers.set('access-control-allow-origin', origin)
  out.headers.set('access-control-expose-headers', EXPOSED)
  if (origin !== '*') out.headers.append('vary', 'Origin')
  return out
}
