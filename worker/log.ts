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
  | 'clients_refresh_failed'
  | 'aliases_refresh_failed'
  | 'client_allow_unreadable'
  | 'client_usage_sync_failed'
  | 'day_tally_sync_failed'
  | 'client_tombstones_purged'

export function log(event: LogEvent, fields: Record<string, string | number | boolean | undefined>): void {
  console.log(JSON.stringify({ event, ...fields }))
}

/**
 * `AIza…x9Qk`: enough to recognise a key, never enough to use it. `tail` shows more of the end, to
 * tell apart keys whose usual mask is the same (admin listings; never more than a third of the key).
 * Keys too short to be real keys still show their first and last character, so that two of them do
 * not read alike.
 */
export function maskKey(key: string, tail = 4): string {
  if (key.length >= 20) return `${key.slice(0, 4)}…${key.slice(-Math.min(tail, Math.floor(key.length / 3)))}`
  if (key.length >= 10) return `${key.slice(0, 2)}…${key.slice(-2)}`
  if (key.length >= 4) return `${key.slice(0, 1)}…${key.slice(-1)}`
  return '…'
}

/**
 * Masks for a set of keys (one provider's, in a listing) such that no two different keys read alike
 * where that can be helped: keys whose usual masks collide show more of their tail, up to a third of
 * the key. Returns the mask of each key, in order.
 */
export function distinctMasks(keys: string[]): string[] {
  const masks = keys.map((k) => maskKey(k))
  const groups = new Map<string, number[]>()
  masks.forEach((m, i) => groups.set(m, [...(groups.get(m) ?? []), i]))
  for (const members of groups.values()) {
    const distinct = new Set(members.map((i) => keys[i]))
    if (distinct.size < 2) continue
    // The shortest longer tail that tells them all apart; none (keys alike at the end): as they were.
    for (let tail = 5; tail <= 12; tail++) {
      const longer = members.map((i) => maskKey(keys[i] as string, tail))
      if (new Set(longer).size === distinct.size) {
        members.forEach((i, j) => (masks[i] = longer[j] as string))
        break
      }
    }
  }
  return masks
}
