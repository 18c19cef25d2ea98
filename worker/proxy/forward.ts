import type { Config } from '../config'
import { AppError, errorResponse } from '../http/errors'
import { log, maskKey } from '../log'
import type { Pool } from '../pool/pool'
import type { PoolKey, ProviderView } from '../pool/view'
import { ALL_MODELS } from '../pool/view'
import type { ProviderAdapter, Verdict } from '../providers/types'
import type { UsageEvent } from '../stats/buffer'
import { detectGatewayError, gatewayAppError } from './gateway-error'
import { downstreamHeaders } from './headers'
import { guardEventStream } from './stream-guard'

export interface ForwardInput {
  config: Config
  pool: Pool
  view: ProviderView
  provider: string
  adapter: ProviderAdapter
  /** Cooldown key: the model as the provider names it. */
  model: string
  target: string
  method: string
  /** Client headers already stripped of credentials. */
  headers: Headers
  /** Read once, replayed byte-identical on every attempt. */
  body: ArrayBuffer | null
  /** Counts every upstream call per key and model, in memory. */
  stats: { record(e: UsageEvent): void }
}

/** How long an isolate prefers other keys after one answered 5xx or could not be reached. */
const SHAKY_SECONDS = 10
const BACKOFF_BASE_MS = 100
const BACKOFF_MAX_MS = 1000

/**
 * Sends the request with one eligible key after another until one answers with something that is not
 * the key's fault. 2xx and the caller's own errors are relayed as they arrive (streams unbuffered);
 * only error bodies, which are small, are read to classify them.
 */
export async function forward(input: ForwardInput): Promise<Response> {
  // State writes overlap the next attempt's upstream call; the answer waits for them (finally below),
  // so a caller that sees the response can rely on D1 holding the change.
  const writes: Promise<void>[] = []
  try {
    return await attempts(input, writes)
  } finally {
    await Promise.all(writes)
  }
}

async function attempts(input: ForwardInput, writes: Promise<void>[]): Promise<Response> {
  const { config, view, model } = input
  const tried = new Set<number>()
  let last: Response | undefined
  let backoff = false
  for (let attempt = 1; attempt <= config.maxAttempts; attempt++) {
    const key = view.pick(model, Date.now() / 1000, tried)
    if (!key) {
      // The first pick decides whether anything can serve: one walk of the ring, not two.
      if (tried.size === 0) throw nothingEligible(view, model, input.provider)
      break
    }
    tried.add(key.id)
    if (backoff) await sleep(backoffMs(attempt))

    let res: Response
    try {
      res = await fetchWithHeaderTimeout(input, key)
    } catch (e) {
      log('upstream_unreachable', {
        provider: input.provider,
        keyId: key.id,
        attempt,
        error: String(e).slice(0, 200),
      })
      count(input, key, 'error', 0, 'network')
      input.view.markShaky(key.id, Date.now() / 1000 + SHAKY_SECONDS)
      backoff = true
      continue
    }
    if (res.status < 400) {
      count(input, key, 'success')
      return relay(res, input)
    }

    const body = await res.text()
    const gateway = detectGatewayError(res.status, body)
    if (gateway) {
      count(input, key, 'error', res.status, 'gateway_error')
      log('gateway_error', {
        provider: input.provider,
        status: res.status,
        internalCode: gateway.internalCode,
      })
      return errorResponse(gatewayAppError(gateway, res.headers.get('retry-after')))
    }
    const now = Date.now()
    const verdict = input.adapter.classify(
      { status: res.status, headers: res.headers, body },
      { now, defaultSeconds: config.defaultCooldownSeconds, creditSeconds: config.creditCooldownSeconds },
    )
    const reason = verdict.kind === 'passthrough' ? String(res.status) : verdict.reason
    count(input, key, res.status === 429 ? 'rate_limited' : 'error', res.status, reason)
    const replay = new Response(body, {
      status: res.status,
      statusText: res.statusText,
      headers: downstreamHeaders(res.headers, true),
    })
    if (verdict.kind === 'passthrough') return replay
    last = replay
    backoff = verdict.kind === 'transient'
    writes.push(record(input, key, verdict, now))
  }

  log('attempts_exhausted', {
    provider: input.provider,
    model,
    attempts: tried.size,
    lastStatus: last?.status,
  })
  if (last) return last
  throw new AppError(502, 'upstream_unreachable', `Could not reach AI Gateway for ${input.provider}`)
}

function count(
  input: ForwardInput,
  key: PoolKey,
  outcome: UsageEvent['outcome'],
  status?: number,
  reason?: string,
): void {
  input.stats.record({ keyId: key.id, provider: input.provider, model: input.model, outcome, status, reason })
}

/**
 * Upstream must answer (status and headers) within UPSTREAM_TIMEOUT_SECONDS, or the attempt counts as
 * unreachable and the next key is tried. Once headers are in, a stream may take as long as it needs.
 */
async function fetchWithHeaderTimeout(input: ForwardInput, key: PoolKey): Promise<Response> {
  const controller = new AbortController()
  const timer = setTimeout(
    () => controller.abort(new Error(`no answer within ${input.config.upstreamTimeoutMs} ms`)),
    input.config.upstreamTimeoutMs,
  )
  try {
    return await fetch(input.target, {
      method: input.method,
      headers: withKey(input, key),
      body: input.body,
      signal: controller.signal,
    })
  } finally {
    clearTimeout(timer)
  }
}

function withKey(input: ForwardInput, key: PoolKey): Headers {
  const headers = new Headers(input.headers)
  headers.set(input.adapter.authHeader, input.adapter.formatAuth(key.key))
  if (input.config.gatewayToken) headers.set('cf-aig-authorization', `Bearer ${input.config.gatewayToken}`)
  return headers
}

function relay(res: Response, input: ForwardInput): Response {
  const stream = res.body && (res.headers.get('content-type') ?? '').includes('text/event-stream')
  const body = stream
    ? guardEventStream(res.body, {
        provider: input.provider,
        errorEvent: input.adapter.streamError('The upstream stream was interrupted'),
        endMarker: input.adapter.streamEnd,
      })
    : res.body
  return new Response(body, {
    status: res.status,
    statusText: res.statusText,
    headers: downstreamHeaders(res.headers),
  })
}

/**
 * Why the first pick of a request found no key, before anything was sent upstream: no keys at all
 * or all blocked (503), or every active key cooling for this model (429 + Retry-After).
 */
function nothingEligible(view: ProviderView, model: string, provider: string): AppError {
  if (view.activeCount === 0) {
    const code = view.blockedCount > 0 ? 'all_keys_blocked' : 'no_keys'
    const why = view.blockedCount > 0 ? 'every key is blocked' : 'no keys have been added'
    return new AppError(503, code, `No usable key for provider ${provider}: ${why}`)
  }
  const nowSeconds = Date.now() / 1000
  const soonest = view.soonestAvailable(model, nowSeconds) ?? nowSeconds + 1
  const retryAfter = String(Math.max(1, Math.ceil(soonest - nowSeconds)))
  return new AppError(
    429,
    'all_keys_cooling',
    `Every key for provider ${provider} is cooling down for model ${model}; retry in ${retryAfter} s`,
    { 'retry-after': retryAfter },
  )
}

async function record(input: ForwardInput, key: PoolKey, verdict: Verdict, now: number): Promise<void> {
  const fields = { provider: input.provider, keyId: key.id, key: maskKey(key.key), model: input.model }
  try {
    if (verdict.kind === 'cooldown') {
      const scope = verdict.allModels ? ALL_MODELS : input.model
      const until = Math.ceil(now / 1000) + verdict.seconds
      log('cooldown_set', { ...fields, scope, seconds: verdict.seconds, until, reason: verdict.reason })
      await input.pool.coolDown(input.view, key.id, scope, until)
    } else if (verdict.kind === 'block') {
      log('key_blocked', { ...fields, reason: verdict.reason })
      await input.pool.block(input.view, key.id, verdict.reason, Math.floor(now / 1000))
    } else if (verdict.kind === 'transient') {
      input.view.markShaky(key.id, now / 1000 + SHAKY_SECONDS)
      log('upstream_transient', { ...fields, reason: verdict.reason })
    }
  } catch (e) {
    // The isolate's view already holds the change; a failed write must not fail the client's request.
    log('state_write_failed', { ...fields, error: String(e).slice(0, 200) })
  }
}

function backoffMs(attempt: number): number {
  const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 2))
  return exp / 2 + Math.random() * (exp / 2)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
