import type { FreeTier } from './free-tier'
export const PROVIDER_IDS = [
  'google-ai-studio',
  'openai',
  'anthropic',
  'azure-openai',
  'groq',
  'mistral',
  'deepseek',
  'openrouter',
  'grok',
  'cerebras',
  'perplexity-ai',
  'cohere',
  'elevenlabs',
  'cartesia',
  'workers-ai',
  'huggingface',
  'replicate',
] as const

export type ProviderId = (typeof PROVIDER_IDS)[number]

/** A non-2xx answer from upstream, body already read (error bodies are small). */
export interface UpstreamError {
  status: number
  headers: Headers
  body: string
}

/** Tunables an adapter needs to turn an answer into a cooldown. */
export interface CooldownPolicy {
  defaultSeconds: number
  creditSeconds: number
  /** Unix milliseconds. */
  now: number
}

/**
 * What to do with a key after an upstream error. Reasons are short codes: never upstream text, which
 * can quote the key (or the client's own input).
 *
 * A verdict is a claim about the key, so it is drawn only from the provider's structured evidence
 * about the key: its code for an invalid, revoked or suspended key, its code for an empty account.
 * A status alone proves nothing (a 403 can be about a file, a model or a region the request named),
 * and neither does free text a request can get quoted back.
 */
export type Verdict =
  /** `shared`: the limit belongs to the account or project, so every key of the key's group has met it. */
  | { kind: 'cooldown'; seconds: number; allModels: boolean; reason: string; shared?: boolean }
  /** The provider's own code says the key is dead. */
  | { kind: 'block'; reason: string }
  /**
   * A 401/403 whose body names no cause this adapter knows: it may be the key, or the request. The
   * key is proved (a check that spends no quota) before anything happens to it.
   */
  | { kind: 'suspect'; reason: string }
  | { kind: 'transient'; reason: string }
  | { kind: 'passthrough' }

export interface ProviderAdapter {
  /** The provider's published free-tier limits, where it has a free tier worth counting against. */
  freeTier?: FreeTier
  /** Header that carries the provider's API key; clients send AUTH_KEY in it too. */
  authHeader: string
  /** Value of authHeader for a provider key, e.g. `Bearer sk-…`. */
  formatAuth(key: string): string
  /** Query parameter that may also carry a key (Google's `?key=`); stripped before forwarding. */
  queryKeyParam?: string
  /** Model named in the path after the provider slug, if this provider puts it there. */
  modelFromPath(rest: string[]): string | undefined
  /** JSON body field naming the model when the path does not (default `model`). */
  bodyModelField?: string
  /**
   * Whether the endpoint at this path runs the model its body names (default: yes). Where it does
   * not (Google's native API reads the model from the path only), a body field is no evidence of
   * the model, and a model-restricted AUTH_KEY is refused rather than trusting it.
   */
  bodyModelAuthoritative?(rest: string[]): boolean
  /** Path (after the slug) of an OpenAI-style embeddings endpoint, if the provider has one. */
  embeddingsPath?: string
  /** Path (after the slug) of the provider's own OpenAI Responses API endpoint, if it has one. */
  responsesPath?: string
  /** Path (after the slug) of the provider's own Anthropic Messages API endpoint, if it has one. */
  messagesPath?: string
  /** Path (after the slug) listing models as `{"data": [{"id"}]}`, if the provider has one. */
  modelsPath?: string
  /** How an id from that list names the model in requests, when the two differ (Google's `models/…`). */
  listedModelId?(id: string): string
  /** Headers the provider insists on for that listing (Anthropic's version header). */
  modelsHeaders?: Record<string, string>
  /**
   * The cheapest call that proves a key works without spending generation quota (a GET, usually
   * the model list). Undefined: this provider's keys cannot be checked.
   */
  probe?: { path: string; headers?: Record<string, string> }
  /**
   * An SSE event telling a streaming client, in this provider's own format, that the stream broke
   * (so its SDK raises an error instead of taking a truncated answer as complete).
   */
  streamError(message: string): string
  /** What every complete stream of this provider contains at its end, where that is certain. */
  streamEnd?: RegExp
  /**
   * From a successful answer's rate-limit headers: seconds until the key has requests (or a useful
   * token budget) again, when it has none left; undefined while it has, or when the provider sends
   * no such headers. Lets the isolate rotate past a key before it answers 429.
   */
  exhaustedFor?(headers: Headers, now: number): number | undefined
  /**
   * Whether a call at this path reads, lists, changes or creates objects kept on the provider account
   * (files, batches, stored completions and responses, vector stores…) rather than running a model.
   * A pool key's account is shared by every client, so these are refused unless the operator allows
   * them (STORED_OBJECTS). Default: none.
   */
  storedObjects?(rest: string[], method: string): boolean
  /**
   * Request headers that choose which account or project answers (OpenAI's `OpenAI-Organization`):
   * never forwarded with a pool key, which must answer as its own account.
   */
  accountHeaders?: readonly string[]
  /**
   * What this provider's keys look like, where it issues them in a recognisable form: adding keys
   * that do not match is warned about (the operator may go on), and a paste of matching keys
   * suggests the provider. `looksLike` says it in words.
   */
  keyShape?: { pattern: RegExp; looksLike: string }
  /** Classifies an error answer from the provider (gateway errors are handled before this). */
  classify(error: UpstreamError, policy: CooldownPolicy): Verdict
}
