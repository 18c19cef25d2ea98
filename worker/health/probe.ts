import type { Config } from '../config'
import { probeOf } from '../providers/registry'
import type { ProviderAdapter, Verdict } from '../providers/types'
import { callUpstream } from '../proxy/upstream'

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
  keyId: number
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
  headers.set('cf-aig-skip-cache', 'true')
  const answer = await callUpstream(
    input.config,
    {
      adapter: input.adapter,
      url: `${input.gatewayBase}/${input.provider}/${probe.path}`,
      method: 'GET',
      headers,
      body: null,
    },
    { id: input.keyId, key: input.key, attempt: 'check' },
  )
  switch (answer.kind) {
    case 'unreachable':
      return { result: 'inconclusive', status: 0, reason: 'network' }
    case 'ok':
      await answer.res.body?.cancel()
      return { result: 'valid', status: answer.res.status }
    case 'gateway':
      return { result: 'inconclusive', status: answer.res.status, reason: 'gateway_error' }
    case 'error':
      return fromVerdict(answer.res.status, answer.verdict)
  }
}

function fromVerdict(status: number, verdict: Verdict): ProbeResult {
  switch (verdict.kind) {
    case 'block':
      return { result: 'invalid', status, reason: verdict.reason }
    // A probe carries nothing of a client's (no body, no client header, a fixed path): a 401/403 to
    // it is about the key, which is what a suspect key is asked to prove.
    case 'suspect':
      return { result: 'invalid', status, reason: verdict.reason }
    case 'cooldown':
      return { ...verdict, result: 'cooling', status }
    case 'transient':
      return { result: 'inconclusive', status, reason: verdict.reason }
    case 'passthrough':
      return { result: 'inconclusive', status, reason: String(status) }
  }
}
