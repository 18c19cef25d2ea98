import { all } from './meter'

export interface AlertRow {
  id: number
  kind: string
  provider: string
  model: string | null
  keyId: number | null
  maskedKey: string | null
  reason: string | null
  at: number
  status: string
  attempts: number
}

const COLUMNS =
  'id, kind, provider, model, key_id AS keyId, masked_key AS maskedKey, reason, at, status, attempts'

/**
 * Records an alert unless one of the same kind and provider was recorded since `since` (the
 * cooldown), in one statement, so isolates racing on the same event record it once. Returns the row,
 * or undefined when it was suppressed.
 */
export async function recordAlert(
  d1: D1Database,
  alert: Omit<AlertRow, 'id' | 'attempts'>,
  since: number,
): Promise<AlertRow | undefined> {
  const r = await all<AlertRow>(
    d1
      .prepare(
        `INSERT INTO alerts (kind, provider, model, key_id, masked_key, reason, at, status, attempts)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0
         WHERE NOT EXISTS (SELECT 1 FROM alerts WHERE kind = ?1 AND provider = ?2 AND at > ?9)
         RETURNING ${COLUMNS}`,
      )
      .bind(
        alert.kind,
        alert.provider,
        alert.model,
        alert.keyId,
        alert.maskedKey,
        alert.reason,
        alert.at,
        alert.status,
        since,
      ),
  )
  return r.results[0]
}

export async function markAlert(d1: D1Database, id: number, status: string): Promise<void> {
  await all(
    d1.prepare('UPDATE alerts SET status = ?2, attempts = attempts + 1 WHERE id = ?1').bind(id, status),
  )
}

export async function recentAlerts(d1: D1Database, since: number, limit = 50): Promise<AlertRow[]> {
  const r = await all<AlertRow>(
    d1
      .prepare(`SELECT ${COLUMNS} FROM alerts WHERE at >= ?1 ORDER BY at DESC, id DESC LIMIT ?2`)
      .bind(since, limit),
  )
  return r.results
}

/** Alerts to send again (the cron): not delivered yet, and not given up on. */
export async function undelivered(d1: D1Database, since: number): Promise<AlertRow[]> {
  const r = await all<AlertRow>(
    d1
      .prepare(`SELECT ${COLUMNS} FROM alerts WHERE status = 'pending' AND at >= ?1 ORDER BY id LIMIT 20`)
      .bind(since),
  )
  return r.results
}
