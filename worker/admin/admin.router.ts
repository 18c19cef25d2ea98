import { Router, type IRequest } from 'itty-router'
import type { Env } from '../config'
import { AppError } from '../http/errors'
import { checkKeysRoute } from './check.routes'
import { exportKeys } from './export.routes'
import { addKeys, getKeys, patchKey, patchKeys, previewKeys, removeKeys } from './keys.routes'
import { getMetrics } from './metrics.routes'
import { getOverview } from './overview.routes'
import { login, logout, whoami } from './session.routes'
import { getStats } from './stats.routes'

/** The JSON admin API the dashboard (and scripts) use; every route checks admin auth itself. */
export const adminRouter = Router<IRequest, [Env, ExecutionContext]>({ base: '/admin/api' })
  .get('/session', (req, env) => whoami(req, env))
  .post('/session', (req, env) => login(req, env))
  .delete('/session', (req) => logout(req))
  .get('/overview', (req, env) => getOverview(req, env))
  .get('/keys', (req, env) => getKeys(req, env))
  .post('/keys', (req, env) => addKeys(req, env))
  .patch('/keys', (req, env) => patchKeys(req, env))
  .delete('/keys', (req, env) => removeKeys(req, env))
  .post('/keys/preview', (req, env) => previewKeys(req, env))
  .post('/keys/check', (req, env) => checkKeysRoute(req, env))
  .post('/keys/export', (req, env) => exportKeys(req, env))
  .patch('/keys/:id', (req, env) => patchKey(req, env))
  .get('/stats', (req, env) => getStats(req, env))
  .get('/metrics', (req, env) => getMetrics(req, env))
  .all('*', () => {
    throw new AppError(404, 'not_found', 'No such admin route')
  })
