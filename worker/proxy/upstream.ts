import type { Config } from '../config'
import type { CooldownPolicy, ProviderAdapter, Verdict } from '../providers/types'
import { detectGatewayError, type GatewayFailure } from './gateway-error'

/**
 * The one upstream client: every call keyrelay makes through AI Gateway with a pool key (proxy
 * attempts and health probes) is sent and read here, so the key's header, the gateway token, the
 * timeout and the reading of errors cannot differ between them.
 */
export interface UpstreamCall {
  /** How the key is sent and errors are read. */
  adapter: ProviderAdapter
  url: string
  method: string
  /** Headers without any credential (the key is set here). */
  headers: Headers
  body: ArrayBuffer | null
}

export type UpstreamAnswer =
  /** 1xx–3xx: the body is untouched (it may be a stream). */
  | { kind: 'ok'; res: Response }
  /** No answer: connection failure, or no status within UPSTREAM_TIMEOUT_SECONDS. */
  | { kind: 'unreachable'; error: string }
  /** AI Gateway itself refused: says nothing about the key. */
  | { kind: 'gateway'; res: Response; failure: GatewayFailure }
  /** The provider answered an error; the (small) body has been read and classified. */
  | { kind: 'error'; res: Response; body: string; verdict: Verdict; at: number }

export function cooldownPolicy(config: Config, now: number): CooldownPolicy {
  return { now, defaultSeconds: config.defaultCooldownSeconds, creditSeconds: config.creditCooldownSeconds }
}

export async function callUpstream(config: Config, call: UpstreamCall, key: string): Promise<UpstreamAnswer> {
  const headers = new Headers(call.headers)
  headers.set(call.adapter.authHeader, call.adapter.formatAuth(key))
  if (config.gatewayToken) headers.set('cf-aig-authorization', `Bearer ${config.gatewayToken}`)
  let res: Response
  try {
    res = await fetchWithHeaderTimeout(call, headers, config.upstreamTimeoutMs)
  } catch (e) {
    return { kind: 'unreachable', error: String(e).slice(0, 200) }
  }
  if (res.status < 400) return { kind: 'ok', res }
  const body = await res.text()
  const failure = detectGatewayError(res.status, body)
  if (failure) return { kind: 'gateway', res, failure }
  const at = Date.now()
  const verdict = call.adapter.classify(
    { status: res.status, headers: res.headers, body },
    cooldownPolicy(config, at),
  )
  return { kind: 'error', res, body, verdict, at }
}

/**
 * Upstream must answer (status and headers) within the timeout, or the call counts as unreachable.
 * Once headers are in, a stream may take as long as it needs.
 */
async function fetchWithHeaderTimeout(call: UpstreamCall, headers: Headers, timeoutMs: number) {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
  try {
    return await fetch(call.url, { method: call.method, headers, body: call.body, signal: controller.signal })
  } finally {
    clearTimeout(timer)
  }
}
