/** AI Gateway through Cloudflare's API: only possible with an API token (wrangler's OAuth login is not ours to use). */
import { info } from './ui'

const apiBase = () => process.env.CLOUDFLARE_API_BASE_URL ?? 'https://api.cloudflare.com/client/v4'

export type GatewayState = 'exists' | 'created' | 'unknown'

export async function ensureGateway(accountId: string, name: string, dryRun: boolean): Promise<GatewayState> {
  const token = process.env.CLOUDFLARE_API_TOKEN
  if (!token) return 'unknown'
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const url = `${apiBase()}/accounts/${accountId}/ai-gateway/gateways`
  const existing = await fetch(`${url}/${encodeURIComponent(name)}`, { headers })
  if (existing.ok) return 'exists'
  if (existing.status !== 404) {
    info(
      `could not look up AI Gateway "${name}" (HTTP ${existing.status}); does the token have AI Gateway Read/Edit?`,
    )
    return 'unknown'
  }
  if (dryRun) return 'unknown'
  const created = await fetch(url, {
    method: 'POST',
    headers,
    // keyrelay rotates keys itself: the gateway's own caching, rate limiting and retries stay off.
    body: JSON.stringify({
      id: name,
      cache_invalidate_on_update: false,
      cache_ttl: 0,
      collect_logs: true,
      rate_limiting_interval: 0,
      rate_limiting_limit: 0,
      rate_limiting_technique: 'fixed',
    }),
  })
  if (created.ok) return 'created'
  info(`could not create AI Gateway "${name}" (HTTP ${created.status})`)
  return 'unknown'
}

export function gatewaySteps(name: string): string[] {
  return [
    'Create the AI Gateway in the Cloudflare dashboard:',
    '  dash.cloudflare.com → AI → AI Gateway → Create Gateway',
    `  name it "${name}" (or set AI_GATEWAY in wrangler.toml to the name you choose)`,
    'or give this script a CLOUDFLARE_API_TOKEN with "AI Gateway: Edit" and run it again.',
  ]
}
