import type { Config } from '../config'
import type { CooldownPolicy, ProviderAdapter, Verdict } from '../providers/types'
import { detectGatewayError, type GatewayFailure } from './gateway-error'
import type { Metadata } from './headers'

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
  /** Headers without any credential (the key is set here, on this object: it is the call's own). */
  headers: Headers
  body: ArrayBuffer | null
  /** The client's own gateway metadata (at most three entries), sent with keyrelay's. */
  metadata?: Metadata
}

/** Which key an upstream call uses, and which attempt of its request it is (or a health check). */
export interface KeyInUse {
  id: number
  key: string
  attempt: number | 'check'
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

/**
 * What keyrelay itself tells the gateway on every call: its token; no retries of its own (they would
 * resend the same key, spending a limited key's quota again); never fall back to Cloudflare-billed
 * credits; and which pool key and attempt this is, so gateway log lines can be matched to keys. Set
 * on the call's own headers, a copy made for this dispatch alone (dispatch.ts): each attempt, with
 * the same adapter, overwrites the last attempt's key (fetch copies headers when it is called).
 */
function gatewayHeaders(config: Config, call: UpstreamCall, key: KeyInUse): Headers {
  const headers = call.headers
  headers.set(call.adapter.authHeader, call.adapter.formatAuth(key.key))
  if (config.gatewayToken) headers.set('cf-aig-authorization', `Bearer ${config.gatewayToken}`)
  headers.set('cf-aig-max-attempts', String(config.gatewayMaxAttempts))
  if (config.gatewayNoWholesale) headers.set('cf-aig-no-wholesale', 'true')
  const metadata = { ...call.metadata, keyrelay_key: key.id, keyrelay_attempt: key.attempt }
  headers.set('cf-aig-metadata', JSON.stringify(metadata))
  return headers
}

export async function callUpstream(
  config: Config,
  call: UpstreamCall,
  key: KeyInUse,
): Promise<UpstreamAnswer> {
  let res: Response
  try {
    res = await fetchWithHeaderTimeout(call, gatewayHeaders(config, call, key), config.upstreamTimeoutMs)
  } catch (e) {
    return { kind: 'unreachable', error: String(e).slice(0, 200) }
  }
  // An interim answer (1xx) is no answer: a Response cannot even be built from one.
  if (res.status < 200) return { kind: 'unreachable', error: `interim status ${res.status}` }
  if (res.status < 400) return { kind: 'ok', res }
  let body: string
  try {
    body = await res.text()
  } catch (e) {
    // The status came, then the connection broke while the (error) body was read: nothing is known
    // about the key, so this is like no answer at all.
    return { kind: 'unreachable', error: `error body cut off: ${String(e).slice(0, 150)}` }
  }
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
