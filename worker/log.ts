/**
 * Structured logs: one JSON line per notable event. Every secret that could reach a log line goes
 * through `maskKey` first; callers pass key ids and masked keys, never raw keys or AUTH_KEY.
 */
export type LogEvent =
  | 'cooldown_set'
  | 'key_blocked'
  | 'key_suspect'
  | 'punish_limit'
  | 'attempts_exhausted'
  | 'gateway_error'
  | 'upstream_transient'
  | 'upstream_unreachable'
  | 'pool_refresh_failed'
  | 'state_write_failed'
  | 'config_invalid'
  | 'internal_error'
  | 'stats_flush_failed'
  | 'stats_dropped'
  | 'key_checked'
  | 'key_restored'
  | 'cooldowns_swept'
  | 'stats_pruned'
  | 'stream_cut'
  | 'storage_unavailable'
  | 'tombstones_purged'
  | 'key_undecryptable'
  | 'keys_sealed'
  | 'group_cooled'
  | 'alert_sent'
  | 'alert_failed'

export function log(event: LogEvent, fields: Record<string, string | number | boolean | undefined>): void {
  console.log(JSON.stringify({ event, ...fields }))
}

/** `AIzaSyA…x9Qk`: enough to recognise a key, never enough to use it. */
export function maskKey(key: string): string {
  if (key.length >= 20) return `${key.slice(0, 4)}…${key.slice(-4)}`
  if (key.length >= 10) return `${key.slice(0, 2)}…${key.slice(-2)}`
  return '…'
}
