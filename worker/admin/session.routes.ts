import { authenticateAdmin } from '../auth/client-auth'
import { loadConfig, type Env } from '../config'
import { AppError } from '../http/errors'
import { parseJsonBody } from '../http/validate'
import * as z from '../http/schema'
import { issueSession, loginWait, recordLogin, requireSameOrigin, sessionCookie } from './session'

const LoginBody = z.object({ authKey: z.string().check(z.minLength(1), z.maxLength(4096)) })

/** `POST /admin/api/session {authKey}`: logs in the dashboard; the key itself is never stored. */
export async function login(request: Request, env: Env): Promise<Response> {
  requireSameOrigin(request)
  const config = loadConfig(env)
  const now = Date.now() / 1000
  const client = request.headers.get('cf-connecting-ip') ?? 'local'
  const wait = loginWait(client, now)
  if (wait > 0) {
    throw new AppError(429, 'login_throttled', `Too many failed logins; try again in ${wait} s`, {
      'retry-after': String(wait),
    })
  }
  const { authKey } = await parseJsonBody(request, LoginBody)
  try {
    await authenticateAdmin(config.authKeys, new Headers({ authorization: `Bearer ${authKey}` }), now)
  } catch (e) {
    recordLogin(client, false, now)
    throw e
  }
  recordLogin(client, true, now)
  const { token, expiresAt } = await issueSession(config.authKeys, now)
  return Response.json(
    { expiresAt },
    { headers: { 'set-cookie': sessionCookie(request, token, expiresAt - Math.floor(now)) } },
  )
}

export async function logout(request: Request): Promise<Response> {
  requireSameOrigin(request)
  return Response.json({ ok: true }, { headers: { 'set-cookie': sessionCookie(request, '', 0) } })
}

/** `GET /admin/api/session`: 200 while logged in (the dashboard asks on load); the router answers 401 otherwise. */
export function whoami(): Response {
  return Response.json({ authenticated: true })
}
