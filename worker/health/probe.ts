import type { Config } from '../config'
import { probeOf } from '../providers/registry'
import type { ProviderAdapter } from '../providers/types'
import { detectGatewayError } from '../proxy/gateway-error'

export type ProbeResult =
  | { result: 'valid'; status: number }
  | { result: 'invalid'; status: number; reason: string }
  | { result: 'cooling'; status: number; reason: string; seconds: number; allModels: boolean }
  /** A gateway or network error, a 5xx, anything that says nothing about the key: change nothing. */
  | { result: 'inconclusive'; status: number; reason: string }
  | { result: 'unsupported' }

export interface ProbeInput {
  config: Config
  gatewayBase: string
  provider: string
  adapter: ProviderAdapter
  key: string
}

/**
 * Asks the provider, through the gateway, whether a key works, with a call that spends no generation
 * quota. The gateway's cache is skipped: a cached 200 would vouch for a key that no longer works.
 */
export async function probeKey(input: ProbeInput): Promise<ProbeResult> {
  const probe = probeOf(input.adapter)
  if (!probe) return { result: 'unsupported' }
  const headers = new Headers(probe.headers)
  headers.set(input.adapter.authHeader, input.adapter.formatAuth(input.key))
  headers.set('cf-aig-skip-cache', 'true')
  if (input.config.gatewayToken) headers.set('cf-aig-authorization', `Bearer ${input.config.gatewayToken}`)
  let res: Response
  try {
    res = await fetch(`${input.gatewayBase}/${input.provider}/${probe.path}`, { headers })
  } catch {
    return { result: 'inconclusive', status: 0, reason: 'network' }
  }
  if (res.ok) {
    await res.body?.cancel()
    return { result: 'valid', status: res.status }
  }
  const body = await res.text()
  if (detectGatewayError(res.status, body))
    return { result: 'inconclusive', status: res.status, reason: 'gateway_error' }
  const verdict = input.adapter.classify(
    { status: res.status, headers: res.headers, body },
    {
      now: Date.now(),
      defaultSeconds: input.config.defaultCooldownSeconds,
      creditSeconds: input.config.creditCooldownSeconds,
    },
  )
  switch (verdict.kind) {
    case 'block':
      return { result: 'invalid', status: res.status, reason: verdict.reason }
    case 'cooldown':
      return { ...verdict, result: 'cooling', status: res.status }
    case 'transient':
      return { result: 'inconclusive', status: res.status, reason: verdict.reason }
    case 'passthrough':
      return { result: 'inconclusive', status: res.status, reason: String(res.status) }
  }
}
