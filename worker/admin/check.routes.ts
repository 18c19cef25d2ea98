import { loadConfig, requireGateway, type Env } from '../config'
import { keysByIds, keysPage } from '../db/health.repo'
import { checkKeys } from '../health/check'
import { adminBody } from './body'
import { CheckKeysBody } from './keys.schemas'

/**
 * `POST /admin/api/keys/check`: checks at most CHECK_BATCH_SIZE keys per call, so one call stays
 * within the Worker's subrequest limit. The answer carries `next`, the body to send for the next
 * batch (null when done), and `remaining`, so a caller can loop and show progress.
 */
export async function checkKeysRoute(request: Request, env: Env): Promise<Response> {
  const config = loadConfig(env)
  const gatewayBase = requireGateway(config)
  const body = await adminBody(request, env, CheckKeysBody)
  const batch = config.checkBatchSize

  if ('ids' in body) {
    const ids = [...new Set(body.ids)]
    const rows = await keysByIds(env.DB, ids.slice(0, batch))
    const rest = ids.slice(batch)
    const results = await checkKeys({ db: env.DB, config, gatewayBase, rows })
    return Response.json({ results, remaining: rest.length, next: rest.length > 0 ? { ids: rest } : null })
  }
  const { rows, remaining } = await keysPage(env.DB, body, batch)
  const results = await checkKeys({ db: env.DB, config, gatewayBase, rows })
  const last = rows.at(-1)
  const next =
    remaining > 0 && last ? { provider: body.provider, status: body.status, afterId: last.id } : null
  return Response.json({ results, remaining, next })
}
