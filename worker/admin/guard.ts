import { authenticateAdmin } from '../auth/client-auth'
import { loadConfig, type Env } from '../config'
import { AppError } from '../http/errors'
import { readCookie, requireSameOrigin, SESSION_COOKIE, verifySession } from './session'

/**
 * Admin auth, run once per call by the admin router: an unrestricted, unexpired AUTH_KEY as a Bearer
 * token (scripts), or the dashboard's session cookie, whose changes must also come from the
 * dashboard's own origin.
 */
export async function requireAdmin(request: Request, env: Env): Promise<void> {
  const config = loadConfig(env)
  const now = Date.now() / 1000
  if (request.headers.has('authorization')) {
    await authenticateAdmin(config.authKeys, request.headers, now)
    return
  }
  const token = readCookie(request.headers, SESSION_COOKIE)
  if (token && (await verifySession(config.authKeys, token, now))) {
    requireSameOrigin(request)
    return
  }
  throw new AppError(
    401,
    token ? 'session_expired' : 'missing_auth_key',
    'Log in, or send AUTH_KEY as a Bearer token',
  )
}
