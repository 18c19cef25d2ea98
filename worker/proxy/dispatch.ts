import type { Config, Env } from '../config'
import { AppError } from '../http/errors'
import { poolFor } from '../pool/pool'
import { statsFor } from '../stats/buffer'
import type { ProviderAdapter, ProviderId } from '../providers/types'
import { PROVIDER_IDS } from '../providers/types'
import { forward } from './forward'
import { NO_MODEL } from './model'

export interface Dispatch {
  env: Env
  ctx: ExecutionContext
  config: Config
  provider: ProviderId
  /** How keys are sent and errors read; the compat route sends every provider's key as Bearer. */
  adapter: ProviderAdapter
  model: string | undefined
  target: string
  method: string
  headers: Headers
  body: ArrayBuffer | null
}

/** The part every route shares once it knows provider, model and target: pool view, then attempts. */
export async function dispatch(d: Dispatch): Promise<Response> {
  const pool = poolFor(d.env.DB, d.config.poolRefreshMs)
  const stats = statsFor(d.env.DB, d.config.statsFlushMs)
  const view = await pool.view(d.provider, (p) => d.ctx.waitUntil(p))
  try {
    return await forward({
      config: d.config,
      pool,
      view,
      provider: d.provider,
      adapter: d.adapter,
      model: d.model ?? NO_MODEL,
      target: d.target,
      method: d.method,
      headers: d.headers,
      body: d.body && d.body.byteLength > 0 ? d.body : null,
      stats,
    })
  } finally {
    stats.schedule((p) => d.ctx.waitUntil(p))
  }
}

export function unknownProvider(): AppError {
  return new AppError(
    404,
    'unknown_provider',
    `Unknown provider. Known providers: ${PROVIDER_IDS.join(', ')}`,
  )
}
