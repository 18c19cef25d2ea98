import { authenticateAdmin } from '../auth/client-auth'
import { clientAddress } from '../auth/throttle'
import { loadConfig, type Env } from '../config'
import { AppError } from '../http/errors'
import { requireAdmin } from './guard'
import { endAllSessions, endSession } from '../db/sessions.repo'
import { adminBody } from './body'
import * as z from '../http/schema'
import {
  issueSession,
  readCookie,
  requireSameOrigin,
  SESSION_COOKIE,
  sessionCookie,
  verifySession,
} from './session'

const LoginBody = z.object({ authKey: z.string().check(z.minLength(1), z.maxLength(4096)) })

/**
 * `POST /admin/api/session {authKey}`: logs in the dashboard; the key itself is never stored. Failed
 * logins count against the client's address like every failed authentication (auth/throttle.ts).
 */
export async function login(request: Request, env: Env): Promise<Response> {
  requireSameOrigin(request)
  const config = loadConfig(env)
  const nowSeconds = Date.now() / 1000
  const { authKey } = await adminBody(request, env, LoginBody)
  const entry = authenticateAdmin(config.authKeys, authKey, {
    nowSeconds,
    client: clientAddress(request.headers),
  })
  const { token, expiresAt } = await issueSession(env.DB, entry, nowSeconds)
  return Response.json(
    { expiresAt },
    { headers: { 'set-cookie': sessionCookie(request, token, expiresAt - Math.floor(nowSeconds)) } },
  )
}

/** `DELETE /admin/api/session`: ends this session for good (its row is deleted), and clears the cookie. */
export async function logout(request: Request, env: Env): Promise<Response> {
  requireSameOrigin(request)
  const token = readCookie(request.headers, SESSION_COOKIE)
  const session = token && (await verifySession(env.DB, loadConfig(env).authKeys, token, Date.now() / 1000))
  if (session) await endSession(env.DB, session.id)
  return Response.json({ ok: true }, { headers: { 'set-cookie': sessionCookie(request, '', 0) } })
}

/** `DELETE /admin/api/sessions`: logs out every dashboard session, this one included. */
export async function logoutEverywhere(request: Request, env: Env): Promise<Response> {
  const ended = await endAllSessions(env.DB)
  return Response.json({ ended }, { headers: { 'set-cookie': sessionCookie(request, '', 0) } })
}

/** `GET /admin/api/session`: `{authenticated}`, always 200: whether this cookie (or Bearer) is an admin's. */
export async function whoami(request: Request, env: Env): Promise<Response> {
  const authenticated = await requireAdmin(request, env).then(
    () => true,
    (e: unknown) => {
      // Only "who are you?" is answered here; a broken configuration or a throttled client is not a no.
      if (e instanceof AppError && (e.status === 401 || e.status === 403)) return false
      throw e
    },
  )
  return Response.json({ authenticated })
}
