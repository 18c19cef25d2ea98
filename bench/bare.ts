import { Miniflare } from 'miniflare'
import { compatibilityDate, ROOT, workerFirstRoutes } from '../test/build'
import { BARE_WORKER, BENCH_GATEWAY, type BenchGateway } from './gateway'

/**
 * The baseline: a bare pass-through Worker before the same upstream, deployed as keyrelay is (static
 * assets in front, /api/* routed to the Worker first), so a ratio measures keyrelay's own work, not
 * the platform's routing.
 */
export async function startBare(gw: BenchGateway): Promise<{ url: string; dispose: () => Promise<void> }> {
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    modules: true,
    script: BARE_WORKER,
    compatibilityDate: compatibilityDate(),
    bindings: { GATEWAY_URL: BENCH_GATEWAY },
    outboundService: gw.handle,
    assets: {
      directory: `${ROOT}ui`,
      routerConfig: { has_user_worker: true, static_routing: { user_worker: workerFirstRoutes() } },
    },
  })
  return { url: (await mf.ready).origin, dispose: () => mf.dispose() }
}
