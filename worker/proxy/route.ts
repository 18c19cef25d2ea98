/**
 * The shapes the proxy's modules share: what a route hands to dispatch, what dispatch hands to the
 * attempts loop. Kept apart so the loop and its helpers import them downward, never from each other.
 */
import type { Config } from '../config'
import type { CooldownScope, ModelName } from '../db/cooldowns'
import type { Alerts } from '../health/alerts'
import type { KeyState } from '../pool/key-state'
import type { PoolKey, ProviderView } from '../pool/view'
import type { ProviderAdapter, ProviderId } from '../providers/types'
import type { UsageEvent } from '../stats/buffer'
import type { TextRewrite } from './stream-guard'
import type { Tokens } from '../stats/usage-read'
import type { Metadata } from './headers'

/** Where a route sends a request, once it knows provider, model and target. */
export interface Upstream {
  provider: ProviderId
  /** How keys are sent and errors read (the compat endpoint sends every provider's key as Bearer). */
  adapter: ProviderAdapter
  /** The model as the provider names it: the cooldown scope (none: NO_MODEL). */
  model: ModelName | undefined
  url: string
  /** Default POST. */
  method?: string
  /** Default: the client's headers (RequestScope.clientHeaders). */
  headers?: Headers
  /** Read once, replayed byte-identical on every attempt. */
  body: ArrayBuffer | null
  /** The conversation the request belongs to, read from its body by the route (conversation.ts). */
  conversation?: string
  /**
   * Not traffic: the model list a chat UI fetches on every start. When no key can serve it, nobody
   * is alerted (a provider without keys is no news to a list of every provider). Default false.
   */
  quiet?: boolean
  /** A successful event stream's text rewritten as it is relayed (a translated dialect's). */
  rewriteStream?: () => TextRewrite
}

/** An Upstream with every default filled in, as the attempts loop sends it. */
export type Route = Omit<Required<Upstream>, 'model' | 'conversation' | 'rewriteStream'> & {
  rewriteStream?: (() => TextRewrite) | undefined
  /** The cooldown scope: the model, or NO_MODEL. */
  model: CooldownScope
  metadata: Metadata
  /** The conversation's hash, when it has one and SESSION_TTL_SECONDS is not 0. */
  affinity: number | undefined
}

export interface ForwardInput {
  config: Config
  /** The route's upstream with every default filled in; `model` is the cooldown scope. */
  route: Route
  keys: KeyState
  view: ProviderView
  /** Keys whose project has used its day for the route's model, by count (pool/day-tally.ts). */
  spent?: (k: PoolKey) => boolean
  /** Counts every upstream call per key and model, in memory. */
  stats: { record(e: UsageEvent): void; recordBlock(e: { provider: string; model: string }): void }
  /** The tokens an answer reported, once its body has passed (for its key, its model, its client). */
  tokens: (keyId: number, tokens: Tokens) => void
  /** Work that must finish but must not hold up the answer (ctx.waitUntil). */
  background: (work: Promise<unknown>) => void
  alerts: Alerts
  /** Reads what other isolates learned, unless this isolate read it in the last `withinMs`. */
  catchUp: (withinMs: number) => Promise<void>
  /**
   * Proves a suspect key off the client's path (health/proof.ts): resolves to whether the check found
   * it valid, invalid (and blocked it), or nothing was checked.
   */
  prove: (key: { id: number; sealed: string }) => Promise<'valid' | 'invalid' | undefined>
}
