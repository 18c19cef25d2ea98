import * as z from './http/schema'
import { wholeNumber } from './http/schema'
import { AuthKeyFormatError, parseAuthKeys, type AuthEntry } from './auth/auth-key'
import { vaultFor, type Vault } from './db/vault'
import { AppError } from './http/errors'
import { log } from './log'

/** Bindings and variables as wrangler hands them to the Worker. */
export interface Env {
  DB: D1Database
  AUTH_KEY?: string
  ENCRYPTION_KEY?: string
  GATEWAY_URL?: string
  CF_ACCOUNT_ID?: string
  AI_GATEWAY?: string
  AI_GATEWAY_TOKEN?: string
  MAX_ATTEMPTS?: string
  DEFAULT_COOLDOWN_SECONDS?: string
  CREDIT_COOLDOWN_SECONDS?: string
  POOL_REFRESH_SECONDS?: string
  UPSTREAM_TIMEOUT_SECONDS?: string
  STATS_FLUSH_SECONDS?: string
  STATS_RETENTION_DAYS?: string
  CHECK_BATCH_SIZE?: string
  SCHEDULED_RECOVERY?: string
  RECOVERY_BATCH_SIZE?: string
  GATEWAY_MAX_ATTEMPTS?: string
  GATEWAY_NO_WHOLESALE?: string
  GATEWAY_HEADERS?: string
  MAX_BODY_MB?: string
  CORS_ORIGINS?: string
  STORED_OBJECTS?: string
  SELECTION?: string
  STORM_SECONDS?: string
  SESSION_TTL_SECONDS?: string
  ALERT_WEBHOOK_URL?: string
  ALERT_COOLDOWN_MINUTES?: string
  ALERT_TEMPLATE?: string
  METRICS_TOKEN?: string
  METRICS_PER_KEY?: string
}

const seconds = (fallback: number, max: number) => z._default(wholeNumber(1, max), fallback)
const onOff = (fallback: 'on' | 'off') =>
  z._default(z.enum(['on', 'off'], { error: 'must be "on" or "off"' }), fallback)

/**
 * `cf-aig-*` headers a client may send through keyrelay: caching and request metadata. Every other
 * one is dropped, since it would let a caller (a restricted one included) hide its requests from the
 * gateway's logs (`cf-aig-collect-log`), rewrite cost accounting (`cf-aig-custom-cost`), pick a key
 * stored in the gateway (`cf-aig-byok-alias`) or turn the gateway's own retries back on. An operator
 * may allow more with GATEWAY_HEADERS; keyrelay's own (below) can never be taken over.
 */
export const CLIENT_GATEWAY_HEADERS = [
  'cf-aig-cache-ttl',
  'cf-aig-skip-cache',
  'cf-aig-cache-key',
  'cf-aig-metadata',
  'cf-aig-request-timeout',
] as const
/** Set by keyrelay itself (or never to be chosen by a caller): not allowed even by GATEWAY_HEADERS. */
const OWN_GATEWAY_HEADERS = new Set([
  'cf-aig-authorization',
  'cf-aig-max-attempts',
  'cf-aig-retry-delay',
  'cf-aig-backoff',
  'cf-aig-no-wholesale',
  'cf-aig-byok-alias',
])

const gatewayHeaderList = z.string().check(
  z.refine(
    (text) =>
      text
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean)
        .every((h) => /^cf-aig-[a-z-]+$/.test(h) && !OWN_GATEWAY_HEADERS.has(h)),
    'must be a comma-separated list of cf-aig-* header names that keyrelay does not set itself',
  ),
)

const EnvSchema = z.object({
  AUTH_KEY: z.string({ error: 'is required (set it with `wrangler secret put AUTH_KEY` or in .dev.vars)' }),
  // Provider keys are sealed with a key derived from this (db/vault.ts); `pnpm deploycf` and
  // `pnpm dev` generate it once. Lose it and stored keys cannot be opened again.
  ENCRYPTION_KEY: z
    .string({
      error:
        'is required: a random secret of at least 32 characters that encrypts provider keys at rest (`pnpm deploycf` and `pnpm dev` create one)',
    })
    .check(z.minLength(32, 'must be at least 32 characters (a random secret: `openssl rand -base64 32`)')),
  GATEWAY_URL: z.optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
  CF_ACCOUNT_ID: z.optional(
    z.string().check(z.regex(/^[0-9a-f]{32}$/i, 'must be a 32-character hex Cloudflare account id')),
  ),
  AI_GATEWAY: z.optional(
    z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a gateway name (letters, digits, - and _)')),
  ),
  AI_GATEWAY_TOKEN: z.optional(z.string().check(z.minLength(1))),
  // Each attempt is a subrequest, and so is every D1 query: 5 stays far below the free plan's 50.
  MAX_ATTEMPTS: z._default(wholeNumber(1, 20), 5),
  DEFAULT_COOLDOWN_SECONDS: seconds(60, 86_400),
  CREDIT_COOLDOWN_SECONDS: seconds(6 * 3600, 7 * 86_400),
  POOL_REFRESH_SECONDS: seconds(5, 3600),
  // Time to the first byte of the answer; a stream, once started, is never cut short.
  UPSTREAM_TIMEOUT_SECONDS: seconds(60, 600),
  // The longest an isolate holds usage counts before writing them: what a dying isolate can lose.
  // Each flush (and its compaction by the cron) costs about 4 rows written: at 60 s a busy isolate
  // writes about 5,800 rows a day, so ten fit the free plan's 100,000; at 5 s one took 69,000.
  STATS_FLUSH_SECONDS: seconds(60, 60),
  STATS_RETENTION_DAYS: z._default(wholeNumber(1, 3650), 30),
  // Keys checked per admin call: each is a subrequest (50 per request on the free plan, D1 included).
  CHECK_BATCH_SIZE: z._default(wholeNumber(1, 500), 20),
  SCHEDULED_RECOVERY: onOff('on'),
  RECOVERY_BATCH_SIZE: z._default(wholeNumber(1, 500), 20),
  // The gateway's own retries resend the same key (a rate-limited key's quota spent again): 1 = off.
  GATEWAY_MAX_ATTEMPTS: z._default(wholeNumber(1, 5), 1),
  // A pooled request must never silently become one billed to Cloudflare credits.
  GATEWAY_NO_WHOLESALE: onOff('on'),
  GATEWAY_HEADERS: z.optional(gatewayHeaderList),
  // Bodies keyrelay parses (compat and admin routes); pass-through bodies are not limited here.
  MAX_BODY_MB: z._default(wholeNumber(1, 100), 16),
  ALERT_WEBHOOK_URL: z.optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
  // One message per kind of event and provider in this long: a storm sends one, not thousands.
  ALERT_COOLDOWN_MINUTES: z._default(wholeNumber(1, 10_080), 30),
  ALERT_TEMPLATE: z.optional(z.string().check(z.refine((t) => t.includes('{{'), 'must contain a {{field}}'))),
  SELECTION: z._default(
    z.enum(['weighted', 'uniform'], { error: 'must be "weighted" or "uniform"' }),
    'weighted',
  ),
  // For this long after an isolate's last 429 (or dead or spent key), keys that have not answered it
  // since the storm began get a small share (pool/view.ts); 0 turns it off.
  STORM_SECONDS: z._default(wholeNumber(0, 60), 2),
  // A conversation stays on one pool key while it can serve (proxy/conversation.ts); 0 turns it off.
  // No state is kept per conversation, so nothing expires: any other value means on.
  SESSION_TTL_SECONDS: z._default(wholeNumber(0, 30 * 86_400), 3600),
  // Files, batches, stored completions and responses live on the provider account behind a pool key,
  // which every client shares: off by default; `admin` for unrestricted AUTH_KEY entries only.
  STORED_OBJECTS: z._default(
    z.enum(['off', 'admin', 'on'], { error: 'must be "off", "admin" or "on"' }),
    'off',
  ),
  // A token that may read /admin/api/metrics and nothing else (a Prometheus scraper's credential).
  METRICS_TOKEN: z.optional(z.string().check(z.minLength(16, 'must be at least 16 characters'))),
  // Per-key series in the metrics: a row per key kept in D1 and one written per key used per cron run.
  METRICS_PER_KEY: onOff('off'),
  // Browsers may call /api/* from these origins (`*`: any; the routes use no cookies).
  CORS_ORIGINS: z._default(
    z
      .string()
      .check(
        z.refine(
          (t) => t.trim() === '*' || t.split(',').every((o) => /^https?:\/\/[^/\s]+$/.test(o.trim())),
          'must be * or a comma-separated list of origins such as https://app.example.com',
        ),
      ),
    '*',
  ),
})

/** How keys of one tier share traffic: `weighted`, operator weights times measured health; `uniform`, operator weights alone (pool/view.ts). */
export type Selection = 'weighted' | 'uniform'

export interface Config {
  authKeys: AuthEntry[]
  /** Seals and opens provider keys (db/vault.ts). */
  vault: Vault
  /** Gateway base without a trailing slash; undefined when neither GATEWAY_URL nor account+gateway is set. */
  gatewayBase: string | undefined
  gatewayToken: string | undefined
  maxAttempts: number
  defaultCooldownSeconds: number
  creditCooldownSeconds: number
  poolRefreshMs: number
  upstreamTimeoutMs: number
  statsFlushMs: number
  statsRetentionDays: number
  checkBatchSize: number
  scheduledRecovery: boolean
  recoveryBatchSize: number
  gatewayMaxAttempts: number
  gatewayNoWholesale: boolean
  /** Lower-case `cf-aig-*` names a client may send (CLIENT_GATEWAY_HEADERS plus GATEWAY_HEADERS). */
  clientGatewayHeaders: ReadonlySet<string>
  maxBodyBytes: number
  /** `*`, or the exact origins allowed to call /api/* from a browser. */
  corsOrigins: '*' | ReadonlySet<string>
  /** How keys of one tier share traffic (pool/view.ts). */
  selection: Selection
  /** How long a storm lasts after an isolate's last verdict (pool/view.ts); 0: no storm steering. */
  stormMs: number
  /** Whether a conversation's requests go to one key (SESSION_TTL_SECONDS > 0). */
  sessionAffinity: boolean
  /** Who may use stored-object endpoints (ProviderAdapter.storedObjects). */
  storedObjects: 'off' | 'admin' | 'on'
  alertWebhookUrl: string | undefined
  alertCooldownSeconds: number
  alertTemplate: string | undefined
  metricsToken: string | undefined
  metricsPerKey: boolean
}

// Parsed once per isolate: env is the same object for every request an isolate serves.
const cache = new WeakMap<object, Config>()

export function loadConfig(env: Env): Config {
  const hit = cache.get(env)
  if (hit) return hit
  const emptyToUndefined = Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, typeof v === 'string' && v.trim() === '' ? undefined : v]),
  )
  const parsed = EnvSchema.safeParse(emptyToUndefined)
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.map(String).join('.')} ${i.message}`)
  let authKeys: AuthEntry[] = []
  if (parsed.success) {
    try {
      authKeys = parseAuthKeys(parsed.data.AUTH_KEY)
    } catch (e) {
      // The grammar error names a position, never the secret itself.
      problems.push(`AUTH_KEY ${e instanceof AuthKeyFormatError ? e.message : 'is malformed'}`)
    }
  }
  if (!parsed.success || problems.length > 0) {
    const detail = problems.join('; ')
    log('config_invalid', { detail })
    throw new AppError(500, 'config_invalid', `Invalid configuration: ${detail}`)
  }
  const e = parsed.data
  const config: Config = {
    authKeys,
    vault: vaultFor(e.ENCRYPTION_KEY),
    gatewayBase:
      e.GATEWAY_URL?.replace(/\/+$/, '') ??
      (e.CF_ACCOUNT_ID && e.AI_GATEWAY
        ? `https://gateway.ai.cloudflare.com/v1/${e.CF_ACCOUNT_ID}/${e.AI_GATEWAY}`
        : undefined),
    gatewayToken: e.AI_GATEWAY_TOKEN,
    maxAttempts: e.MAX_ATTEMPTS,
    defaultCooldownSeconds: e.DEFAULT_COOLDOWN_SECONDS,
    creditCooldownSeconds: e.CREDIT_COOLDOWN_SECONDS,
    poolRefreshMs: e.POOL_REFRESH_SECONDS * 1000,
    upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_SECONDS * 1000,
    statsFlushMs: e.STATS_FLUSH_SECONDS * 1000,
    statsRetentionDays: e.STATS_RETENTION_DAYS,
    checkBatchSize: e.CHECK_BATCH_SIZE,
    scheduledRecovery: e.SCHEDULED_RECOVERY === 'on',
    recoveryBatchSize: e.RECOVERY_BATCH_SIZE,
    gatewayMaxAttempts: e.GATEWAY_MAX_ATTEMPTS,
    gatewayNoWholesale: e.GATEWAY_NO_WHOLESALE === 'on',
    clientGatewayHeaders: new Set([
      ...CLIENT_GATEWAY_HEADERS,
      ...(e.GATEWAY_HEADERS ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    ]),
    maxBodyBytes: e.MAX_BODY_MB * 1024 * 1024,
    corsOrigins:
      e.CORS_ORIGINS.trim() === '*' ? '*' : new Set(e.CORS_ORIGINS.split(',').map((o) => o.trim())),
    selection: e.SELECTION,
    stormMs: e.STORM_SECONDS * 1000,
    sessionAffinity: e.SESSION_TTL_SECONDS > 0,
    storedObjects: e.STORED_OBJECTS,
    alertWebhookUrl: e.ALERT_WEBHOOK_URL,
    alertCooldownSeconds: e.ALERT_COOLDOWN_MINUTES * 60,
    alertTemplate: e.ALERT_TEMPLATE,
    metricsToken: e.METRICS_TOKEN,
    metricsPerKey: e.METRICS_PER_KEY === 'on',
  }
  cache.set(env, config)
  return config
}

export function requireGateway(config: Config): string {
  if (config.gatewayBase) return config.gatewayBase
  throw new AppError(
    500,
    'config_invalid',
    'Invalid configuration: set GATEWAY_URL, or CF_ACCOUNT_ID and AI_GATEWAY, to say where AI Gateway is',
  )
}
