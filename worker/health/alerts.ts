import type { Config } from '../config'
import { markAlert, recordAlert, undelivered, type AlertRow } from '../db/alerts.repo'
import { perIsolate } from '../db/per-isolate'
import { ALL_MODELS, NO_MODEL } from '../db/cooldowns'
import { log } from '../log'

export type AlertKind = 'key_blocked' | 'key_restored' | 'no_usable_key'

export interface AlertEvent {
  kind: AlertKind
  provider: string
  model?: string | undefined
  keyId?: number | undefined
  /** Masked (log.ts maskKey); never a key. */
  maskedKey?: string | undefined
  reason?: string | undefined
}

const SEND_TIMEOUT_MS = 5000
const MAX_ATTEMPTS = 5

/**
 * Alerts: a JSON POST to ALERT_WEBHOOK_URL when a key is blocked or restored, or when a provider
 * has no usable key for a model a request asked for. At most one per kind and provider per
 * ALERT_COOLDOWN_MINUTES, across isolates (the alerts table decides, in one statement), so a storm
 * sends one message; this isolate's memory keeps a storm from even asking D1. Sending never holds up
 * a client (callers hand it to waitUntil); an alert not delivered is retried by the cron.
 */
export class Alerts {
  private readonly recent = new Map<string, number>()

  constructor(
    private readonly d1: D1Database,
    private readonly config: Pick<Config, 'alertWebhookUrl' | 'alertCooldownSeconds' | 'alertTemplate'>,
  ) {}

  /** Never throws: an alert that cannot be recorded or sent is logged. */
  async emit(event: AlertEvent, nowSeconds = Math.floor(Date.now() / 1000)): Promise<void> {
    const id = `${event.kind}|${event.provider}`
    if (nowSeconds - (this.recent.get(id) ?? -Infinity) < this.config.alertCooldownSeconds) return
    this.recent.set(id, nowSeconds)
    try {
      const row = await recordAlert(
        this.d1,
        {
          kind: event.kind,
          provider: event.provider,
          model: event.model?.slice(0, MODEL_CHARS * 2) ?? null,
          keyId: event.keyId ?? null,
          maskedKey: event.maskedKey ?? null,
          reason: event.reason ?? null,
          at: nowSeconds,
          status: this.config.alertWebhookUrl ? 'pending' : 'local',
        },
        nowSeconds - this.config.alertCooldownSeconds,
      )
      if (row && this.config.alertWebhookUrl) await this.deliver(row)
    } catch (e) {
      log('alert_failed', { kind: event.kind, provider: event.provider, error: String(e).slice(0, 200) })
    }
  }

  /** The cron: alerts not delivered yet, sent again. */
  async retry(nowSeconds: number): Promise<number> {
    if (!this.config.alertWebhookUrl) return 0
    const rows = await undelivered(this.d1, nowSeconds - 86_400)
    for (const row of rows) await this.deliver(row)
    return rows.length
  }

  private async deliver(row: AlertRow): Promise<void> {
    let status = 'sent'
    try {
      const res = await fetch(this.config.alertWebhookUrl as string, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: alertBody(row, this.config.alertTemplate),
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      })
      await res.body?.cancel()
      if (!res.ok) throw new Error(`HTTP ${res.status}`)
      log('alert_sent', { kind: row.kind, provider: row.provider })
    } catch (e) {
      status = row.attempts + 1 >= MAX_ATTEMPTS ? 'failed' : 'pending'
      // The URL is a secret (it often holds a bot token): only the error is logged.
      log('alert_failed', {
        kind: row.kind,
        provider: row.provider,
        attempt: row.attempts + 1,
        error: String(e).slice(0, 120),
      })
    }
    await markAlert(this.d1, row.id, status)
  }
}

/** Longest model name an alert carries: a model name is the caller's text. */
const MODEL_CHARS = 64

/**
 * A model name as an alert carries it. It is the caller's text (`@everyone`, a URL), so it is cut to
 * MODEL_CHARS and every `@` is followed by a zero-width space, which no chat app reads as a mention;
 * in the text it also stands in inline code, which Slack and Discord neither link nor notify from.
 */
export function alertModel(model: string | null): string {
  if (model === null || model === NO_MODEL) return 'requests that name no model'
  if (model === ALL_MODELS) return 'every model'
  const cut = model.length > MODEL_CHARS ? `${model.slice(0, MODEL_CHARS)}…` : model
  return cut.replaceAll('@', '@\u200b')
}

const SENTENCES: Record<string, (r: AlertRow) => string> = {
  key_blocked: (r) =>
    `a ${r.provider} key (${r.maskedKey ?? '…'}) was blocked: ${r.reason ?? 'unknown reason'}`,
  key_restored: (r) => `a blocked ${r.provider} key (${r.maskedKey ?? '…'}) works again and was restored`,
  no_usable_key: (r) =>
    `${r.provider} has no usable key for ${r.model === null || r.model === NO_MODEL ? alertModel(r.model) : `\`${alertModel(r.model)}\``} (${r.reason ?? 'every key cooling or blocked'})`,
}

export function alertText(row: AlertRow): string {
  return `keyrelay: ${(SENTENCES[row.kind] ?? (() => row.kind))(row)}`
}

/**
 * The POST body: `text` (Slack, most webhooks) and `content` (Discord) plus the fields; or
 * ALERT_TEMPLATE with `{{text}}`, `{{kind}}`, `{{provider}}`, `{{model}}`, `{{key}}`, `{{reason}}`
 * and `{{at}}` filled in (JSON-escaped), for anything else (a Telegram bot's chat_id, say).
 */
export function alertBody(row: AlertRow, template: string | undefined): string {
  const fields: Record<string, string> = {
    text: alertText(row),
    kind: row.kind,
    provider: row.provider,
    model: row.model === null ? '' : alertModel(row.model),
    key: row.maskedKey ?? '',
    reason: row.reason ?? '',
    at: new Date(row.at * 1000).toISOString(),
  }
  if (template)
    return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) =>
      JSON.stringify(fields[name] ?? '').slice(1, -1),
    )
  // Discord: no mention in the message may notify anyone, whatever it contains.
  return JSON.stringify({ ...fields, content: fields.text, event: row.kind, allowed_mentions: { parse: [] } })
}

const instances = perIsolate<Alerts>()

export const alertsFor = (
  d1: D1Database,
  config: Pick<Config, 'alertWebhookUrl' | 'alertCooldownSeconds' | 'alertTemplate'>,
): Alerts => instances(d1, () => new Alerts(d1, config))
