import { authenticateAdmin } from '../auth/client-auth'
import { loadConfig, type Env } from '../config'
import { d1Usage } from '../db/meter'

/** D1 usage of the request path in the isolate that answers (each isolate counts its own). */
export async function getMetrics(request: Request, env: Env): Promise<Response> {
  await authenticateAdmin(loadConfig(env).authKeys, request.headers, Date.now() / 1000)
  return Response.json({ scope: 'isolate', d1: d1Usage })
}
