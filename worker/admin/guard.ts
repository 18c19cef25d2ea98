import { authenticateAdmin, bearerCredential } from '../auth/client-auth'
import { clientAddress } from '../auth/throttle'
import { matchSecret } from '../auth/compare'
import { loadConfig, type Config, type Env } from '../config'
import { AppError } from '../http/errors'
import { readCookie, requireSameOrigin, SESSION_COOKIE, verifySession } from './session'

/**
 * Admin auth, run once per call by the admin router: an unrestricted, unexpired AUTH_KEY as a Bearer
 * token (scripts), or the dashboard's session cookie, whose changes must also come from the
 * dashboard's own origin.
 */
export async function requireAdmin(request: Request, env: Env): Promise<void> {
  const config = loadConfig(env)
  const nowSeconds = Date.now() / 1000
  if (request.headers.has('authorization')) {
    authenticateAdmin(config.authKeys, bearerCredential(request.headers), {
      nowSeconds,
      client: clientAddress(request.headers),
    })
    return
  }
  const token = readCookie(request.headers, SESSION_COOKIE)
  if (token && (await verifySession(env.DB, config.authKeys, token, nowSeconds))) {
    requireSameOrigin(request)
    return
  }
  throw new AppError(
    401,
    token ? 'session_expired' : 'missing_auth_key',
    'Log in, or send AUTH_KEY as a Bearer token',
  )
}

/**
 * Whether the call carries METRICS_TOKEN as its Bearer token (compared in constant time): a scraper's
 * credential that opens the metrics and nothing else. A wrong one goes on to admin auth, whose
 * throttle counts it.
 */
export function isMetricsToken(request: Request, config: Config): boolean {
  const token = config.metricsToken
  const given = bearerCredential(request.headers)
  return token !== undefined && given !== undefined && matchSecret([token], given) === 0
}
