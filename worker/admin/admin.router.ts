import { Router, type IRequest } from 'itty-router'
import { loadConfig, type Env } from '../config'
import { AppError } from '../http/errors'
import { checkKeysRoute } from './check.routes'
import { createClient, getClient, listClients, patchClient, removeClient } from './clients.routes'
import { exportKeys } from './export.routes'
import { isMetricsToken, requireAdmin } from './guard'
import { addKeys, getKey, getKeys, patchKey, patchKeys, previewKeys, removeKeys } from './keys.routes'
import { getMetrics } from './metrics.routes'
import { getOverview } from './overview.routes'
import { login, logout, logoutEverywhere, whoami } from './session.routes'
import { recentAlerts } from '../db/alerts.repo'
import { runSetupChecks, worst } from './setup'
import { deleteLimits, getLimits, putLimits } from './limits.routes'
import { createRoute, listRoutes, patchRoute, removeRoute } from './routes.routes'
import { getStats } from './stats.routes'
import { exportUsage } from './usage.routes'
import { PROVIDERS } from '../providers/registry'
import { PROVIDER_IDS } from '../providers/types'

/**
 * The only admin calls open without admin auth: logging in and out (they start and end a session),
 * and asking whether one is open (the dashboard asks on load; a page with no session must not log a
 * 401 in the browser's console).
 */
const OPEN = new Set(['POST /admin/api/session', 'DELETE /admin/api/session', 'GET /admin/api/session'])

/** Authenticates every admin call once, before any route runs (a new route cannot forget it). */
async function adminOnly(request: IRequest, env: Env): Promise<undefined> {
  const call = `${request.method} ${new URL(request.url).pathname}`
  if (OPEN.has(call)) return undefined
  if (call === 'GET /admin/api/metrics' && isMetricsToken(request, loadConfig(env))) return undefined
  await requireAdmin(request, env)
  return undefined
}

/** The JSON admin API the dashboard (and scripts) use. */
export const adminRouter = Router<IRequest, [Env, ExecutionContext]>({
  base: '/admin/api',
  before: [adminOnly],
})
  .get('/session', (req, env) => whoami(req, env))
  .post('/session', (req, env) => login(req, env))
  .delete('/session', (req, env) => logout(req, env))
  .delete('/sessions', (req, env) => logoutEverywhere(req, env))
  .get('/overview', (req, env) => getOverview(req, env))
  .get('/keys', (req, env) => getKeys(req, env))
  .post('/keys', (req, env) => addKeys(req, env))
  .patch('/keys', (req, env) => patchKeys(req, env))
  .delete('/keys', (req, env) => removeKeys(req, env))
  .post('/keys/preview', (req, env) => previewKeys(req, env))
  .post('/keys/check', (req, env) => checkKeysRoute(req, env))
  .post('/keys/export', (req, env) => exportKeys(req, env))
  .patch('/keys/:id', (req, env) => patchKey(req, env))
  .get('/keys/:id', (req, env) => getKey(req, env))
  .get('/clients', (req, env) => listClients(req, env))
  .post('/clients', (req, env) => createClient(req, env))
  .get('/clients/:id', (req, env) => getClient(req, env))
  .patch('/clients/:id', (req, env) => patchClient(req, env))
  .delete('/clients/:id', (req, env) => removeClient(req, env))
  .get('/providers', () => Response.json({ providers: providerList() }))
  .get('/stats', (req, env) => getStats(req, env))
  .get('/usage', (req, env) => exportUsage(req, env))
  .get('/limits', (req, env) => getLimits(req, env))
  .put('/limits', (req, env) => putLimits(req, env))
  .delete('/limits', (req, env) => deleteLimits(req, env))
  .get('/routes', (req, env) => listRoutes(req, env))
  .post('/routes', (req, env) => createRoute(req, env))
  .patch('/routes/:name', (req, env) => patchRoute(req, env))
  .delete('/routes/:name', (req, env) => removeRoute(req, env))
  .get('/metrics', (req, env) => getMetrics(req, env))
  .get('/alerts', async (_req, env) =>
    Response.json({ alerts: await recentAlerts(env.DB, Math.floor(Date.now() / 1000) - 7 * 86_400) }),
  )
  .get('/setup', async (_req, env) => {
    const checks = await runSetupChecks(env, loadConfig(env))
    return Response.json({ status: worst(checks), checks })
  })
  .all('*', () => {
    throw new AppError(404, 'not_found', 'No such admin route')
  })

/**
 * `GET /admin/api/providers`: every provider keyrelay rotates, and what its keys look like (the add
 * page suggests a provider and warns about keys of another shape from the adapters' own patterns).
 */
function providerList() {
  return PROVIDER_IDS.map((id) => {
    const shape = PROVIDERS[id].keyShape
    return {
      id,
      ...(shape ? { keyShape: { pattern: shape.pattern.source, looksLike: shape.looksLike } } : {}),
    }
  })
}
