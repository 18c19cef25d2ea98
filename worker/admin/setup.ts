import journal from '../../migrations/meta/_journal.json'
import { settleAll } from '../db/shared-read'
import type { AuthEntry } from '../auth/auth-key'
import type { Config, Env } from '../config'
import { hasUnsealedKeys } from '../db/admin.repo'
import { recentAlerts, type AlertRow } from '../db/alerts.repo'
import { alertText } from '../health/alerts'
import { appliedMigrations, LAST_CRON, readMeta } from '../db/setup.repo'
import { detectGatewayError } from '../proxy/gateway-error'
import { adminView, unopenable } from './admin-view'
import { ALL_MODELS, cooledUntil, parseCooldowns } from '../db/cooldowns'
import { modelHealth } from './pool-health'
import { recentUsage } from './usage-cache'

/**
 * The setup check behind `GET /admin/api/setup`, the dashboard's setup panel and `pnpm doctor`: what
 * is wrong with this deployment and how to fix it, in words. Never a secret's value: variables are
 * named, AUTH_KEY entries are numbered.
 */
export type CheckStatus = 'ok' | 'warning' | 'failing'

export interface SetupCheck {
  id: string
  title: string
  status: CheckStatus
  detail: string
  fix?: string
}

const VARIABLES = [
  'AUTH_KEY',
  'ENCRYPTION_KEY',
  'CF_ACCOUNT_ID',
  'AI_GATEWAY',
  'GATEWAY_URL',
  'AI_GATEWAY_TOKEN',
  'MAX_ATTEMPTS',
  'POOL_REFRESH_SECONDS',
  'UPSTREAM_TIMEOUT_SECONDS',
  'STATS_FLUSH_SECONDS',
  'SCHEDULED_RECOVERY',
  'GATEWAY_HEADERS',
  'CORS_ORIGINS',
  'MAX_BODY_MB',
  'SELECTION',
  'STORM_SECONDS',
  'STORED_OBJECTS',
] as const

/** The Cron Trigger runs every 10 minutes; twice that without a run means it is not set up. */
const CRON_STALE_SECONDS = 30 * 60
const GATEWAY_TIMEOUT_MS = 10_000

export async function runSetupChecks(env: Env, config: Config): Promise<SetupCheck[]> {
  const now = Math.floor(Date.now() / 1000)
  return [
    configCheck(env),
    await gatewayCheck(config),
    await migrationsCheck(env.DB),
    authKeyCheck(config.authKeys, now),
    await keysCheck(env),
    await sealCheck(env),
    await cronCheck(env.DB, now),
    await alertsCheck(env.DB, config, now),
  ]
}

async function alertsCheck(d1: D1Database, config: Config, now: number): Promise<SetupCheck> {
  const recent = await recentAlerts(d1, now - 86_400)
  const where = config.alertWebhookUrl
    ? 'sent to ALERT_WEBHOOK_URL'
    : 'no ALERT_WEBHOOK_URL is set, so they are only listed here'
  if (recent.length === 0)
    return { id: 'alerts', title: 'Alerts', status: 'ok', detail: `None in the last 24 hours (${where}).` }
  const undelivered = recent.filter((a) => a.status === 'pending' || a.status === 'failed').length
  return {
    id: 'alerts',
    title: 'Alerts',
    status: 'warning',
    detail: `${recent.length} in the last 24 hours, latest: ${alertText(recent[0] as AlertRow)}${undelivered ? `; ${undelivered} not delivered yet` : ''} (${where}).`,
    fix: 'See the keys page for the keys concerned; `GET /admin/api/alerts` lists them all.',
  }
}

export const worst = (checks: SetupCheck[]): CheckStatus =>
  checks.some((c) => c.status === 'failing')
    ? 'failing'
    : checks.some((c) => c.status === 'warning')
      ? 'warning'
      : 'ok'

function configCheck(env: Env): SetupCheck {
  const values = env as unknown as Record<string, unknown>
  const set = VARIABLES.filter(
    (name) => typeof values[name] === 'string' && String(values[name]).trim() !== '',
  )
  return {
    id: 'config',
    title: 'Configuration',
    status: 'ok',
    detail: `Parsed. Set: ${set.join(', ')} (values are never shown).`,
  }
}

async function gatewayCheck(config: Config): Promise<SetupCheck> {
  const title = 'AI Gateway'
  if (!config.gatewayBase) {
    return {
      id: 'gateway',
      title,
      status: 'failing',
      detail: 'No AI Gateway is configured, so every proxied request answers config_invalid.',
      fix: 'Set CF_ACCOUNT_ID (your account ID, shown in the Cloudflare dashboard’s URL and on its Overview page) and AI_GATEWAY (default "keyrelay"), or a full GATEWAY_URL.',
    }
  }
  // One call that spends nothing: a model list without a provider key. The provider refuses it
  // (401), which proves the gateway passed it on; the gateway's own refusal says what is wrong.
  const headers = new Headers({
    'cf-aig-skip-cache': 'true',
    'cf-aig-metadata': JSON.stringify({ keyrelay_probe: 'setup' }),
  })
  if (config.gatewayToken) headers.set('cf-aig-authorization', `Bearer ${config.gatewayToken}`)
  let res: Response
  try {
    res = await fetch(`${config.gatewayBase}/openai/models`, {
      headers,
      signal: AbortSignal.timeout(GATEWAY_TIMEOUT_MS),
    })
  } catch (e) {
    return {
      id: 'gateway',
      title,
      status: 'failing',
      detail: `AI Gateway could not be reached (${e instanceof Error ? e.name : 'network error'}).`,
      fix: 'Check CF_ACCOUNT_ID and AI_GATEWAY (or GATEWAY_URL).',
    }
  }
  const body = await res.text().catch(() => '')
  const failure = detectGatewayError(res.status, body)
  if (failure?.internalCode === 2009 || (failure && res.status === 401)) {
    return {
      id: 'gateway',
      title,
      status: 'failing',
      detail: config.gatewayToken
        ? 'The gateway is authenticated and refused AI_GATEWAY_TOKEN.'
        : 'The gateway is authenticated, and no AI_GATEWAY_TOKEN is set.',
      fix: 'Create a token in AI Gateway → your gateway → Settings → Authentication, then set it with `wrangler secret put AI_GATEWAY_TOKEN` (or in .dev.vars); or turn authentication off for this gateway.',
    }
  }
  if (failure) {
    return {
      id: 'gateway',
      title,
      status: 'failing',
      detail: `The gateway refused the call itself (HTTP ${res.status}, code ${failure.internalCode ?? '?'}).`,
      fix: `Check that a gateway named as in AI_GATEWAY exists on this account (AI → AI Gateway → Create Gateway), or run \`pnpm deploycf\` with a CLOUDFLARE_API_TOKEN to create it.`,
    }
  }
  if (res.status >= 500) {
    return {
      id: 'gateway',
      title,
      status: 'warning',
      detail: `Reached, but it answered HTTP ${res.status}; try again shortly.`,
    }
  }
  return {
    id: 'gateway',
    title,
    status: 'ok',
    detail: `Reachable and passing requests on (HTTP ${res.status} from the provider, as expected without a key).`,
  }
}

async function migrationsCheck(d1: D1Database): Promise<SetupCheck> {
  const expected = journal.entries.map((e) => `${e.tag}.sql`)
  const applied = await appliedMigrations(d1)
  const title = 'Database migrations'
  if (!applied) {
    return {
      id: 'migrations',
      title,
      status: 'warning',
      detail: 'wrangler has recorded no migrations on this database.',
      fix: 'Apply them: `wrangler d1 migrations apply DB --remote` (or `pnpm deploycf`); locally `pnpm dev` does it.',
    }
  }
  const pending = expected.filter((name) => !applied.includes(name))
  if (pending.length > 0) {
    return {
      id: 'migrations',
      title,
      status: 'failing',
      detail: `${pending.length} migration(s) not applied: ${pending.join(', ')}.`,
      fix: 'Run `wrangler d1 migrations apply DB --remote` (or `pnpm deploycf`, which does it).',
    }
  }
  return { id: 'migrations', title, status: 'ok', detail: `All ${expected.length} applied.` }
}

/** Entries are named by position only; a weak one is one that could be guessed. */
function authKeyCheck(entries: AuthEntry[], now: number): SetupCheck {
  const problems: string[] = []
  entries.forEach((e, i) => {
    const n = i + 1
    if (e.expiresAt !== undefined && e.expiresAt <= now) problems.push(`entry ${n} has expired`)
    else if (e.secret.length < 16) problems.push(`entry ${n} is short (${e.secret.length} characters)`)
    else if (new Set(e.secret).size < 8) problems.push(`entry ${n} repeats few characters`)
  })
  const admins = entries.filter((e) => !e.rules).length
  return problems.length > 0
    ? {
        id: 'auth_key',
        title: 'AUTH_KEY',
        status: 'warning',
        detail: `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}: ${problems.join('; ')}.`,
        fix: 'Use long random secrets (`openssl rand -base64 32`); failed guesses are throttled, but a short key is still guessable.',
      }
    : {
        id: 'auth_key',
        title: 'AUTH_KEY',
        status: 'ok',
        detail: `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, ${admins} unrestricted; none short or expired.`,
      }
}

/**
 * Keys per provider: usable unless blocked or cooling for every model. A key cooling for one model
 * still serves the others, so the per-model view (pool-health.ts, over the models with traffic in
 * 24 h) says which models have no usable key at all.
 */
async function keysCheck(env: Env): Promise<SetupCheck> {
  const now = Date.now() / 1000
  const [view, usage] = await settleAll([adminView(env), recentUsage(env.DB)])
  const byProvider = new Map<string, { total: number; usable: number }>()
  for (const row of view.list()) {
    const p = byProvider.get(row.provider) ?? { total: 0, usable: 0 }
    p.total++
    if (row.status === 'active' && cooledUntil(parseCooldowns(row.cooldowns), ALL_MODELS) <= now) p.usable++
    byProvider.set(row.provider, p)
  }
  if (byProvider.size === 0) {
    return {
      id: 'keys',
      title: 'Provider keys',
      status: 'warning',
      detail: 'No provider keys yet: every request answers 503 no_keys.',
      fix: 'Add keys in the dashboard (Add keys) or with POST /admin/api/keys.',
    }
  }
  const empty = [...byProvider].filter(([, p]) => p.usable === 0).map(([name]) => name)
  const starved = [...modelHealth(view.list(), usage, now)]
    .flatMap(([provider, { models }]) =>
      models.filter((m) => m.usable === 0).map((m) => `${provider} ${m.model}`),
    )
    .filter((name) => !empty.some((p) => name.startsWith(`${p} `)))
  const detail = [...byProvider]
    .map(([name, p]) => `${name}: ${p.usable} of ${p.total} usable now`)
    .join('; ')
  const fixes = [
    empty.length > 0 ? `No key of ${empty.join(', ')} can serve right now (all cooling or blocked).` : '',
    starved.length > 0
      ? `No usable key for ${starved.join(', ')} (its keys are cooling for it or blocked).`
      : '',
  ].filter(Boolean)
  return fixes.length > 0
    ? {
        id: 'keys',
        title: 'Provider keys',
        status: 'warning',
        detail: `${detail}.`,
        fix: `${fixes.join(' ')} See the overview's "Usable now, by model" and the keys page.`,
      }
    : { id: 'keys', title: 'Provider keys', status: 'ok', detail: `${detail}.` }
}

async function sealCheck(env: Env): Promise<SetupCheck> {
  const title = 'Keys at rest'
  const rows = (await adminView(env)).list()
  const stale = rows.filter(unopenable)
  if (stale.length > 0) {
    const byProvider = new Map<string, number>()
    for (const r of stale) byProvider.set(r.provider, (byProvider.get(r.provider) ?? 0) + 1)
    const where = [...byProvider].map(([p, n]) => `${p} ${n}`).join(', ')
    return {
      id: 'encryption',
      title,
      // Every key unopenable: nothing can be served at all.
      status: stale.length === rows.length ? 'failing' : 'warning',
      detail: `${stale.length} of ${rows.length} stored keys cannot be opened with this ENCRYPTION_KEY (${where}): they were sealed with another one, and requests skip them.`,
      fix: 'Set ENCRYPTION_KEY back to the secret they were sealed with (`wrangler secret put ENCRYPTION_KEY`, or .dev.vars). If it is lost, add the keys again and then delete the ones that cannot be opened: `DELETE /admin/api/keys` with `{"unopenable": true}`.',
    }
  }
  return (await hasUnsealedKeys(env.DB))
    ? {
        id: 'encryption',
        title,
        status: 'warning',
        detail:
          'Some keys stored by an earlier keyrelay are not sealed yet; the Cron Trigger seals 2,000 a run.',
        fix: 'Nothing to do if the Cron Trigger runs; it finishes within the hour.',
      }
    : {
        id: 'encryption',
        title,
        status: 'ok',
        detail: 'Every key is stored encrypted, and opens with this ENCRYPTION_KEY.',
      }
}

async function cronCheck(d1: D1Database, now: number): Promise<SetupCheck> {
  const last = Number(await readMeta(d1, LAST_CRON))
  const title = 'Cron Trigger'
  const fix =
    'Keep `[triggers] crons = ["*/10 * * * *"]` in wrangler.toml and deploy. Locally, with `pnpm dev` running, open http://localhost:8787/__scheduled to run it once.'
  if (!Number.isFinite(last) || last === 0) {
    return {
      id: 'cron',
      title,
      status: 'warning',
      detail: 'Has not run yet: expired cooldowns and blocked keys wait for it.',
      fix,
    }
  }
  const minutes = Math.floor((now - last) / 60)
  return now - last > CRON_STALE_SECONDS
    ? {
        id: 'cron',
        title,
        status: 'warning',
        detail: `Last ran ${minutes} minutes ago; it should run every 10.`,
        fix,
      }
    : {
        id: 'cron',
        title,
        status: 'ok',
        detail: `Last ran ${minutes < 1 ? 'under a minute' : `${minutes} minute(s)`} ago.`,
      }
}
