import { all } from './meter'

/** Dashboard sessions (schema.ts `sessions`): one row read per cookie-authenticated admin call. */
export async function createSession(
  d1: D1Database,
  session: { id: string; entry: string; createdAt: number; expiresAt: number },
): Promise<void> {
  await all(
    d1
      .prepare('INSERT INTO sessions (id, entry, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)')
      .bind(session.id, session.entry, session.createdAt, session.expiresAt),
  )
}

/** Whether session `id` is still open for `entry` (a row read by primary key). */
export async function sessionOpen(
  d1: D1Database,
  id: string,
  entry: string,
  nowSeconds: number,
): Promise<boolean> {
  const r = await all(
    d1
      .prepare('SELECT 1 AS open FROM sessions WHERE id = ?1 AND entry = ?2 AND expires_at > ?3')
      .bind(id, entry, nowSeconds),
  )
  return r.results.length > 0
}

export async function endSession(d1: D1Database, id: string): Promise<void> {
  await all(d1.prepare('DELETE FROM sessions WHERE id = ?1').bind(id))
}

/** "Log out everywhere". Returns how many sessions ended. */
export async function endAllSessions(d1: D1Database): Promise<number> {
  return (await all(d1.prepare('DELETE FROM sessions'))).meta.changes ?? 0
}

export async function pruneSessions(d1: D1Database, nowSeconds: number): Promise<number> {
  return (
    (await all(d1.prepare('DELETE FROM sessions WHERE expires_at <= ?1').bind(nowSeconds))).meta.changes ?? 0
  )
}
