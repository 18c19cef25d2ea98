import { AppError, errorResponse } from '../http/errors'
import { log } from '../log'
import type { PoolKey, ProviderView } from '../pool/view'
import type { Verdict } from '../providers/types'
import type { UsageEvent } from '../stats/buffer'
import { UsageMeter } from '../stats/usage-meter'
import type { ForwardInput } from './route'
import { gatewayAppError } from './gateway-error'
import { downstreamHeaders } from './headers'
import { redactKey } from './redact'
import { catchUpAfterVerdict, pickKey } from './lessons'
import { readSmall, rewritten, watchBody } from './stream-guard'
import { callUpstream } from './upstream'
import { recordVerdict, restSpent, SHAKY_SECONDS } from './verdicts'

/**
 * Answers that mean the pool could not serve (attempts used up on limited or dead keys), not that the
 * request was refused: an alias moves on to its next target on them (compat/fallback.ts).
 */
export const exhaustedAnswers = new WeakSet<Response>()

function exhausted(res: Response): Response {
  exhaustedAnswers.add(res)
  return res
}

/**
 * The most keys one request may block or cool for every model. A dead key is rare and meets one
 * request before every isolate knows it; a request that meets more has either found a pool gone bad
 * all at once (the next requests meet the rest) or a way to make healthy keys look dead: either way it
 * stops there and answers with what it saw.
 */
export const MAX_PUNISHED_PER_REQUEST = 3

/**
 * Suspect answers (a 401/403 naming no cause) one request may draw. The first may be a dead key, so
 * the next key is tried; a second says the request itself is refused, and it is answered.
 */
const MAX_SUSPECT_ANSWERS = 2

/** Stateless when not streaming: one for every answer read whole. */
const decoder = new TextDecoder()

/** A JSON answer up to this size is read whole rather than relayed as a stream (readSmall). */
const SMALL_ANSWER = 256 * 1024

const UNDECRYPTABLE_SECONDS = 3600
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
  const { config, view, route } = input
  const tried = new Set<number>()
  let unopened = 0
  let punished = 0
  let suspects = 0
  let last: Response | undefined
  let backoff = false
  // MAX_ATTEMPTS bounds the calls; keys that answer 429 or are dead may use up to twice as many:
  // they answer at once, cost the client no wait, and say nothing about the next key. In a storm,
  // before an isolate has learned which keys are limited, that is what keeps a request from failing
  // while a good key waits further along the ring.
  let limit = config.maxAttempts
  for (let attempt = 1; attempt <= limit; attempt++) {
    const picked = pickKey(input, tried)
    const { key, release } = picked instanceof Promise ? await picked : picked
    // A gamble is held until this attempt is over: by then its verdict is in this view (the key is
    // proven, cooling or blocked), so other requests here need not find it out too.
    try {
      if (!key) {
        // The first pick decides whether anything can serve: one walk of the ring, not two.
        if (tried.size === 0) {
          const error = nothingEligible(view, route.model, route.provider)
          if (!route.quiet) {
            const alert = { provider: route.provider, model: route.model, reason: error.code }
            input.background(input.alerts.emit({ kind: 'no_usable_key', ...alert }))
          }
          throw error
        }
        break
      }
      tried.add(key.id)
      if (backoff) await sleep(backoffMs(attempt))

      const secret = input.config.vault.alreadyOpen(key.key) ?? (await openKey(input, key))
      if (secret === undefined) {
        unopened++
        continue
      }
      const started = Date.now()
      const answer = await callUpstream(config, route, { id: key.id, key: secret, attempt })
      switch (answer.kind) {
        case 'unreachable':
          log('upstream_unreachable', {
            provider: route.provider,
            keyId: key.id,
            attempt,
            error: answer.error,
          })
          count(input, key, 'error', 0, 'network')
          view.markShaky(key.id, Date.now() / 1000 + SHAKY_SECONDS)
          view.health.record(key.id, { failed: true })
          backoff = true
          continue
        case 'ok': {
          const now = Date.now()
          view.health.record(key.id, { latencyMs: now - started })
          const spentFor = route.adapter.exhaustedFor?.(answer.res.headers, now)
          if (spentFor !== undefined)
            restSpent(input, { key: { id: key.id, secret }, seconds: spentFor, at: now, sentAt: started })
          count(input, key, 'success')
          return relay(answer.res, input, key.id)
        }
        case 'gateway': {
          const { res, failure } = answer
          count(input, key, 'error', res.status, 'gateway_error')
          log('gateway_error', {
            provider: route.provider,
            status: res.status,
            internalCode: failure.internalCode,
          })
          const message = redactKey(failure.message, secret)
          return errorResponse(gatewayAppError({ ...failure, message }, res.headers.get('retry-after')))
        }
        case 'error': {
          const { res, body, verdict } = answer
          const reason = verdict.kind === 'passthrough' ? String(res.status) : verdict.reason
          count(input, key, res.status === 429 ? 'rate_limited' : 'error', res.status, reason)
          // Relayed as the provider sent it, minus any echo of the pool key (OpenAI quotes its tail).
          const replay = new Response(redactKey(body, secret), {
            status: res.status,
            statusText: res.statusText,
            headers: downstreamHeaders(res.headers, true),
          })
          if (verdict.kind === 'passthrough') return replay
          last = replay
          if (verdict.kind === 'suspect') {
            suspect(input, key, verdict.reason)
            if (++suspects >= MAX_SUSPECT_ANSWERS) return replay
            continue
          }
          backoff = verdict.kind === 'transient'
          if (!backoff) limit = Math.min(2 * config.maxAttempts, Math.max(limit, attempt + 1))
          if (backoff) view.health.record(key.id, { failed: true })
          // Recorded first: the verdict takes effect in this isolate at once, so requests picking while
          // this one catches up below do not meet the same key.
          writes.push(recordVerdict(input, { key: { id: key.id, secret }, verdict, at: answer.at }))
          if (!backoff) {
            // A limit met: a storm in this isolate (see ProviderView.verdict), and a read of what
            // other isolates learned before the next pick.
            view.verdict(answer.at, started)
            if (severe(verdict) && ++punished >= MAX_PUNISHED_PER_REQUEST) {
              log('punish_limit', { provider: route.provider, keys: punished })
              return exhausted(replay)
            }
            await catchUpAfterVerdict(input)
          }
        }
      }
    } finally {
      release?.()
    }
  }

  log('attempts_exhausted', {
    provider: route.provider,
    model: route.model,
    attempts: tried.size,
    lastStatus: last?.status,
  })
  if (last) return exhausted(last)
  if (unopened === tried.size) {
    throw new AppError(
      500,
      'keys_undecryptable',
      `The stored keys for ${route.provider} cannot be decrypted: ENCRYPTION_KEY is not the one they were sealed with`,
    )
  }
  throw new AppError(502, 'upstream_unreachable', `Could not reach AI Gateway for ${route.provider}`)
}

function count(
  input: ForwardInput,
  key: PoolKey,
  outcome: UsageEvent['outcome'],
  status?: number,
  reason?: string,
): void {
  const { provider, model } = input.route
  input.stats.record({ keyId: key.id, provider, model, outcome, status, reason })
}

/** A verdict that takes a key out for every model: a block, or an account out of credit. */
const severe = (verdict: Verdict) =>
  verdict.kind === 'block' || (verdict.kind === 'cooldown' && verdict.allModels)

/**
 * A suspect key is proved off the client's path; meanwhile this isolate tries other keys first (as
 * after a 5xx), and stops doing so at once if the proof finds it valid. Nothing is stored.
 */
function suspect(input: ForwardInput, key: PoolKey, reason: string): void {
  const { view, route } = input
  log('key_suspect', { provider: route.provider, keyId: key.id, model: route.model, reason })
  view.markShaky(key.id, Date.now() / 1000 + SHAKY_SECONDS)
  input.background(
    input.prove({ id: key.id, sealed: key.key }).then((result) => {
      if (result === 'valid') view.markShaky(key.id, 0)
    }),
  )
}

/**
 * The answer as the client gets it: an event stream guarded against cuts, and the tokens of any JSON
 * or event-stream answer read as it passes (a stream is never held), counted for its key once it has.
 */
async function relay(res: Response, input: ForwardInput, keyId: number): Promise<Response> {
  const type = res.headers.get('content-type') ?? ''
  const stream = type.includes('text/event-stream')
  let body: ReadableStream<Uint8Array> | Uint8Array | null = res.body
  if (!body || (!stream && !type.includes('json'))) {
    return new Response(body, {
      status: res.status,
      statusText: res.statusText,
      headers: downstreamHeaders(res.headers),
    })
  }
  const meter = new UsageMeter()
  const counted = () => {
    const tokens = meter.result()
    if (tokens) input.tokens(keyId, tokens)
  }
  if (!stream) {
    let read: Awaited<ReturnType<typeof readSmall>>
    try {
      read = await readSmall(body, SMALL_ANSWER)
    } catch {
      throw new AppError(502, 'upstream_interrupted', `The answer from ${input.route.provider} was cut off`)
    }
    if ('whole' in read) {
      meter.feed(decoder.decode(read.whole))
      counted()
      body = read.whole
    } else body = watchBody(read.stream, { reader: meter, done: counted })
  } else {
    const rewrite = res.ok ? input.route.rewriteStream?.() : undefined
    const answer = new Response(
      watchBody(body, {
        guard: {
          provider: input.route.provider,
          errorEvent: input.route.adapter.streamError('The upstream stream was interrupted'),
          endMarker: input.route.adapter.streamEnd,
        },
        reader: meter,
        done: counted,
        ...(rewrite ? { rewrite } : {}),
      }),
      { status: res.status, statusText: res.statusText, headers: downstreamHeaders(res.headers) },
    )
    if (rewrite) rewritten.add(answer)
    return answer
  }
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

/**
 * The key as the provider knows it (stored sealed, opened once per isolate). One that cannot be
 * opened (ENCRYPTION_KEY replaced) is set aside in this isolate for an hour, and said so in the log.
 */
async function openKey(input: ForwardInput, key: PoolKey): Promise<string | undefined> {
  try {
    return await input.config.vault.open(key.key)
  } catch {
    log('key_undecryptable', { provider: input.route.provider, keyId: key.id })
    input.view.markShaky(key.id, Date.now() / 1000 + UNDECRYPTABLE_SECONDS)
    return undefined
  }
}

function backoffMs(attempt: number): number {
  const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 2))
  return exp / 2 + Math.random() * (exp / 2)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
