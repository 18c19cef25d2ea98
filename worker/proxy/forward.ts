import type { Config } from '../config'
import { ALL_MODELS } from '../db/cooldowns'
import { AppError, errorResponse } from '../http/errors'
import { log, maskKey } from '../log'
import type { Alerts } from '../health/alerts'
import type { KeyState } from '../pool/key-state'
import type { PoolKey, ProviderView } from '../pool/view'
import type { Verdict } from '../providers/types'
import type { UsageEvent } from '../stats/buffer'
import type { Route } from './dispatch'
import { gatewayAppError } from './gateway-error'
import { downstreamHeaders } from './headers'
import { redactKey } from './redact'
import { guardEventStream } from './stream-guard'
import { callUpstream } from './upstream'

export interface ForwardInput {
  config: Config
  /** The route's upstream with every default filled in; `model` is the cooldown scope. */
  route: Route
  keys: KeyState
  view: ProviderView
  /** Counts every upstream call per key and model, in memory. */
  stats: { record(e: UsageEvent): void }
  /** Work that must finish but must not hold up the answer (ctx.waitUntil). */
  background: (work: Promise<unknown>) => void
  alerts: Alerts
  /** Reads what other isolates learned, unless this isolate read it in the last `withinMs`. */
  catchUp: (withinMs: number) => Promise<void>
}

/**
 * A key that says (in its rate-limit headers) it is spent rests in this isolate alone when the reset
 * is near (a per-second limit); a longer rest matters to other isolates too, which would each spend a
 * 429 to find out, and is written to D1 (off the answer's path).
 */
const SHARED_REST_SECONDS = 10

/**
 * After a key answers 429 or is dead, before the next key is picked, an isolate reads what other
 * isolates learned (in a storm they have likely met other limited keys), at most this often: a
 * storm costs a few reads per isolate, not one per 429.
 */
const VERDICT_CATCH_UP_MS = 100

/**
 * Before a gamble (see ProviderView.unproven) the same read, unless the view is this fresh. Gambles
 * come in bursts at a storm's start, when a lesson tens of milliseconds old is the one that saves a
 * 429. Measured with 8 isolates (5 runs each): a fifth fewer 429s than at 100 ms, for the same rows
 * read; 10 ms gained nothing more.
 */
const GAMBLE_CATCH_UP_MS = 30

/**
 * How long a request waits for either read. A D1 read from a colo far from the database takes a
 * round trip, which is still cheaper than the 429 it saves; but a read that D1 stalls or refuses is
 * retried for seconds (db/retry.ts). Past this the request picks from what the view holds (the read
 * goes on, for the picks after it). Measured in the 8-isolate benchmark, whose reads slow down far
 * beyond their 12 ms median under its contention: 100 ms cost from a third more to three times the
 * 429s; 500 ms about 0.2 more per limited Google key; 1 s nothing measurable (interleaved runs
 * against no limit, 4 each).
 */
const READ_WAIT_MS = 1000

/** How long an isolate prefers other keys after one answered 5xx or could not be reached. */
const SHAKY_SECONDS = 10
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
  let last: Response | undefined
  let backoff = false
  // MAX_ATTEMPTS bounds the calls; keys that answer 429 or are dead may use up to twice as many:
  // they answer at once, cost the client no wait, and say nothing about the next key. In a storm,
  // before an isolate has learned which keys are limited, that is what keeps a request from failing
  // while a good key waits further along the ring.
  let limit = config.maxAttempts
  for (let attempt = 1; attempt <= limit; attempt++) {
    const { key, release } = await pickKey(input, tried)
    // A gamble is held until this attempt is over: by then its verdict is in this view (the key is
    // proven, cooling or blocked), so other requests here need not find it out too.
    try {
      if (!key) {
        // The first pick decides whether anything can serve: one walk of the ring, not two.
        if (tried.size === 0) {
          const error = nothingEligible(view, route.model, route.provider)
          input.background(
            input.alerts.emit({
              kind: 'no_usable_key',
              provider: route.provider,
              model: route.model,
              reason: error.code,
            }),
          )
          throw error
        }
        break
      }
      tried.add(key.id)
      if (backoff) await sleep(backoffMs(attempt))

      const secret = await openKey(input, key)
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
          if (spentFor !== undefined) rest(input, { id: key.id, secret }, spentFor, now, started)
          count(input, key, 'success')
          return relay(answer.res, input)
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
          backoff = verdict.kind === 'transient'
          if (!backoff) limit = Math.min(2 * config.maxAttempts, Math.max(limit, attempt + 1))
          if (backoff) view.health.record(key.id, { failed: true })
          // Recorded first: the verdict takes effect in this isolate at once, so requests picking while
          // this one catches up below do not meet the same key.
          writes.push(record(input, { id: key.id, secret }, verdict, answer.at))
          if (!backoff) {
            // A limit met: a storm in this isolate (see ProviderView.verdict), and a read of what
            // other isolates learned before the next pick.
            view.verdict(answer.at, started)
            await readLessons(input, VERDICT_CATCH_UP_MS)
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
  if (last) return last
  if (unopened === tried.size) {
    throw new AppError(
      500,
      'keys_undecryptable',
      `The stored keys for ${route.provider} cannot be decrypted: ENCRYPTION_KEY is not the one they were sealed with`,
    )
  }
  throw new AppError(502, 'upstream_unreachable', `Could not reach AI Gateway for ${route.provider}`)
}

/**
 * The next key for this request. A gamble in a storm (a key not heard from since it began) is taken
 * after reading what other isolates learned, picking again if that cooled or removed the key; it is
 * held (see ProviderView.gamble) until the caller releases it.
 */
async function pickKey(
  input: ForwardInput,
  tried: ReadonlySet<number>,
): Promise<{ key: PoolKey | undefined; release?: () => void }> {
  const { view, route } = input
  const now = () => Date.now() / 1000
  let key = view.pick(route.model, now(), tried)
  if (!key || !view.unproven(key, Date.now())) return { key }
  let release = view.gamble(key.id)
  await readLessons(input, GAMBLE_CATCH_UP_MS)
  if (view.usable(key, route.model, now())) return { key, release }
  release()
  key = view.pick(route.model, now(), tried)
  if (!key || !view.unproven(key, Date.now())) return { key }
  release = view.gamble(key.id)
  return { key, release }
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

function relay(res: Response, input: ForwardInput): Response {
  const stream = res.body && (res.headers.get('content-type') ?? '').includes('text/event-stream')
  const body = stream
    ? guardEventStream(res.body, {
        provider: input.route.provider,
        errorEvent: input.route.adapter.streamError('The upstream stream was interrupted'),
        endMarker: input.route.adapter.streamEnd,
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

async function record(
  input: ForwardInput,
  key: { id: number; secret: string },
  verdict: Verdict,
  now: number,
): Promise<void> {
  const { provider, model } = input.route
  const fields = { provider, keyId: key.id, key: maskKey(key.secret), model }
  try {
    if (verdict.kind === 'cooldown') {
      const scope = verdict.allModels ? ALL_MODELS : model
      const until = Math.ceil(now / 1000) + verdict.seconds
      log('cooldown_set', { ...fields, scope, seconds: verdict.seconds, until, reason: verdict.reason })
      if (verdict.shared) {
        const cooled = await input.keys.coolDownGroup(provider, key.id, scope, until, verdict.reason)
        if (cooled > 1) log('group_cooled', { provider, keyId: key.id, keys: cooled, reason: verdict.reason })
      } else {
        await input.keys.coolDown(provider, key.id, scope, until, verdict.reason)
      }
    } else if (verdict.kind === 'block') {
      log('key_blocked', { ...fields, reason: verdict.reason })
      if (await input.keys.block(provider, key.id, verdict.reason, Math.floor(now / 1000))) {
        const alert = {
          kind: 'key_blocked' as const,
          provider,
          keyId: key.id,
          maskedKey: fields.key,
          reason: verdict.reason,
        }
        input.background(input.alerts.emit(alert))
      }
    } else if (verdict.kind === 'transient') {
      input.view.markShaky(key.id, now / 1000 + SHAKY_SECONDS)
      log('upstream_transient', { ...fields, reason: verdict.reason })
    }
  } catch (e) {
    // The isolate's view already holds the change; a failed write must not fail the client's request.
    log('state_write_failed', { ...fields, error: String(e).slice(0, 200) })
  }
}

/**
 * The key said it has no budget left until `seconds` from now: stop picking it until then. A rest
 * long enough to share is a limit met, as a 429 would have been: a storm, for this isolate's picks.
 */
function rest(
  input: ForwardInput,
  key: { id: number; secret: string },
  seconds: number,
  now: number,
  sentMs: number,
): void {
  const { provider, model } = input.route
  const until = Math.ceil(now / 1000) + seconds
  if (seconds <= SHARED_REST_SECONDS) {
    input.view.applyLocalCooldown(key.id, model, until)
    return
  }
  input.view.verdict(now, sentMs)
  log('cooldown_set', {
    provider,
    keyId: key.id,
    key: maskKey(key.secret),
    model,
    scope: model,
    seconds,
    until,
    reason: 'spent',
  })
  input.background(
    input.keys.coolDown(provider, key.id, model, until, 'spent').catch((e: unknown) => {
      log('state_write_failed', { provider, keyId: key.id, error: String(e).slice(0, 200) })
    }),
  )
}

/** What other isolates learned, read unless the view is `withinMs` fresh, waited for READ_WAIT_MS at most. */
async function readLessons(input: ForwardInput, withinMs: number): Promise<void> {
  const read = input.catchUp(withinMs).catch(() => undefined)
  // The bound's timer is cleared once the read is in: most reads are skipped (a fresh view) or fast,
  // and a second-long timer per retry would outlive the request for nothing.
  let timer: ReturnType<typeof setTimeout> | undefined
  const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, READ_WAIT_MS)))
  try {
    await Promise.race([read, bound])
  } finally {
    clearTimeout(timer)
  }
}

function backoffMs(attempt: number): number {
  const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 2))
  return exp / 2 + Math.random() * (exp / 2)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
