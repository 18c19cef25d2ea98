import { loadConfig, type Env } from '../config'
import { d1Usage } from '../db/meter'
import { poolStates, readMetrics } from '../db/metrics.repo'
import { AppError } from '../http/errors'
import { urlOf } from '../http/url'
import { exposition } from './prometheus'

/**
 * `GET /admin/api/metrics`: by default the D1 usage of the request path in the isolate that answers
 * (each isolate counts its own); `?format=prometheus`, every isolate's flushed counts and the pool's
 * state from D1, in the Prometheus text format.
 */
export async function getMetrics(request: Request, env: Env): Promise<Response> {
  const format = urlOf(request).searchParams.get('format')
  if (format === null || format === 'json') return Response.json({ scope: 'isolate', d1: d1Usage })
  if (format !== 'prometheus') {
    throw new AppError(400, 'invalid_format', 'format must be "json" or "prometheus"')
  }
  const config = loadConfig(env)
  const [totals, pool] = await Promise.all([
    readMetrics(env.DB, config.metricsPerKey),
    poolStates(env.DB, Math.floor(Date.now() / 1000)),
  ])
  const text = exposition(totals.rows, pool, { rowsRead: totals.rowsRead + pool.rowsRead })
  return new Response(text, {
    headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' },
  })
}
