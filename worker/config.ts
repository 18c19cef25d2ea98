import { z } from 'zod'
import { AuthKeyFormatError, parseAuthKeys, type AuthEntry } from './auth/auth-key'
import { AppError } from './http/errors'
import { log } from './log'

/** Bindings and variables as wrangler hands them to the Worker. */
export interface Env {
  DB: D1Database
  AUTH_KEY?: string
  GATEWAY_URL?: string
  CF_ACCOUNT_ID?: string
  AI_GATEWAY?: string
  AI_GATEWAY_TOKEN?: string
  MAX_ATTEMPTS?: string
  DEFAULT_COOLDOWN_SECONDS?: string
  CREDIT_COOLDOWN_SECONDS?: string
  POOL_REFRESH_SECONDS?: string
  STATS_FLUSH_SECONDS?: string
  STATS_RETENTION_DAYS?: string
  CHECK_BATCH_SIZE?: string
  SCHEDULED_RECOVERY?: string
  RECOVERY_BATCH_SIZE?: string
}

const seconds = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback)

const EnvSchema = z.object({
  AUTH_KEY: z
    .string({ error: 'is required (set it with `wrangler secret put AUTH_KEY` or in .dev.vars)' })
    .transform((raw, ctx) => {
      try {
        return parseAuthKeys(raw)
      } catch (e) {
        // The grammar error names a position, never the secret itself.
        ctx.addIssue({
          code: 'custom',
          message: e instanceof AuthKeyFormatError ? e.message : 'is malformed',
        })
        return z.NEVER
      }
    }),
  GATEWAY_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  CF_ACCOUNT_ID: z
    .string()
    .regex(/^[0-9a-f]{32}$/i, 'must be a 32-character hex Cloudflare account id')
    .optional(),
  AI_GATEWAY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a gateway name (letters, digits, - and _)')
    .optional(),
  AI_GATEWAY_TOKEN: z.string().min(1).optional(),
  // Each attempt is a subrequest, and so is every D1 query: 5 stays far below the free plan's 50.
  MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  DEFAULT_COOLDOWN_SECONDS: seconds(60, 86_400),
  CREDIT_COOLDOWN_SECONDS: seconds(6 * 3600, 7 * 86_400),
  POOL_REFRESH_SECONDS: seconds(5, 3600),
  // The longest an isolate holds usage counts before writing them: what a dying isolate can lose.
  STATS_FLUSH_SECONDS: seconds(5, 60),
  STATS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  // Keys checked per admin call: each is a subrequest (50 per request on the free plan, D1 included).
  CHECK_BATCH_SIZE: z.coerce.number().int().min(1).max(500).default(20),
  SCHEDULED_RECOVERY: z.enum(['on', 'off'], { error: 'must be "on" or "off"' }).default('on'),
  RECOVERY_BATCH_SIZE: z.coerce.number().int().min(1).max(500).default(20),
})

export interface Config {
  authKeys: AuthEntry[]
  /** Gateway base without a trailing slash; undefined when neither GATEWAY_URL nor account+gateway is set. */
  gatewayBase: string | undefined
  gatewayToken: string | undefined
  maxAttempts: number
  defaultCooldownSeconds: number
  creditCooldownSeconds: number
  poolRefreshMs: number
  statsFlushMs: number
  statsRetentionDays: number
  checkBatchSize: number
  scheduledRecovery: boolean
  recoveryBatchSize: number
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
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')
    log('config_invalid', { detail })
    throw new AppError(500, 'config_invalid', `Invalid configuration: ${detail}`)
  }
  const e = parsed.data
  const config: Config = {
    authKeys: e.AUTH_KEY,
    gatewayBase:
      e.GATEWAY_URL ??
      (e.CF_ACCOUNT_ID && e.AI_GATEWAY
        ? `https://gateway.ai.cloudflare.com/v1/${e.CF_ACCOUNT_ID}/${e.AI_GATEWAY}`
        : undefined),
    gatewayToken: e.AI_GATEWAY_TOKEN,
    maxAttempts: e.MAX_ATTEMPTS,
    defaultCooldownSeconds: e.DEFAULT_COOLDOWN_SECONDS,
    creditCooldownSeconds: e.CREDIT_COOLDOWN_SECONDS,
    poolRefreshMs: e.POOL_REFRESH_SECONDS * 1000,
    statsFlushMs: e.STATS_FLUSH_SECONDS * 1000,
    statsRetentionDays: e.STATS_RETENTION_DAYS,
    checkBatchSize: e.CHECK_BATCH_SIZE,
    scheduledRecovery: e.SCHEDULED_RECOVERY === 'on',
    recoveryBatchSize: e.RECOVERY_BATCH_SIZE,
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
