/** What an upstream answer teaches about a key, applied to its state (this isolate's view first). */
import { ALL_MODELS } from '../db/cooldowns'
import { log, maskKey } from '../log'
import type { Verdict } from '../providers/types'
import type { ForwardInput } from './route'

/**
 * A key that says (in its rate-limit headers) it is spent rests in this isolate alone when the reset
 * is near (a per-second limit); a longer rest matters to other isolates too, which would each spend a
 * 429 to find out, and is written to D1 (off the answer's path).
 */
const SHARED_REST_SECONDS = 10

/** How long an isolate prefers other keys after one answered 5xx or could not be reached. */
export const SHAKY_SECONDS = 10

/**
 * A verdict on a key (429, dead, transient) taken into its state: the view at once, D1 by the time
 * the promise settles. A write that fails is logged, never thrown: the client's request goes on.
 */
export async function recordVerdict(
  input: ForwardInput,
  { key, verdict, at: now }: { key: { id: number; secret: string }; verdict: Verdict; at: number },
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
        input.stats.recordBlock({ provider, model })
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
export function restSpent(
  input: ForwardInput,
  spent: { key: { id: number; secret: string }; seconds: number; at: number; sentAt: number },
): void {
  const { key, seconds, at: now, sentAt: sentMs } = spent
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
