import { authenticateAdmin } from '../auth/client-auth'
import { loadConfig, type Env } from '../config'
import { deleteKeys, insertKeys, listKeys } from '../db/admin.repo'
import { dbFor } from '../db/client'
import type { KeyRow } from '../db/schema'
import { AppError } from '../http/errors'
import { parseJsonBody, parseQuery } from '../http/validate'
import { maskKey } from '../log'
import { poolFor } from '../pool/pool'
import { AddKeysBody, DeleteKeysBody, ListKeysQuery, normaliseKeys } from './keys.schemas'

async function admin(request: Request, env: Env): Promise<void> {
  await authenticateAdmin(loadConfig(env).authKeys, request.headers, Date.now() / 1000)
}

export async function addKeys(request: Request, env: Env): Promise<Response> {
  await admin(request, env)
  const body = await parseJsonBody(request, AddKeysBody)
  const { unique, duplicates, malformedAt } = normaliseKeys(body.keys)
  if (malformedAt !== undefined) {
    // Name the position, not the value: a malformed entry may still be most of a secret.
    throw new AppError(
      400,
      'invalid_key',
      `keys[${malformedAt}] is not a key (whitespace inside, or over 1 KB)`,
    )
  }
  const added = await insertKeys(env.DB, {
    provider: body.provider,
    keys: unique,
    remark: body.remark ?? '',
    nowSeconds: Math.floor(Date.now() / 1000),
  })
  // This isolate's next request sees the new keys at once; other isolates at their next refresh.
  poolFor(env.DB, loadConfig(env).poolRefreshMs).invalidate(body.provider)
  return Response.json({ added, skipped: duplicates + unique.length - added })
}

export async function getKeys(request: Request, env: Env): Promise<Response> {
  await admin(request, env)
  const query = parseQuery(new URL(request.url), ListKeysQuery)
  const { rows, total } = await listKeys(dbFor(env.DB), query)
  const now = Date.now() / 1000
  return Response.json({ keys: rows.map((r) => present(r, now)), total })
}

export async function removeKeys(request: Request, env: Env): Promise<Response> {
  await admin(request, env)
  const body = await parseJsonBody(request, DeleteKeysBody)
  const deleted = await deleteKeys(dbFor(env.DB), [...new Set(body.ids)])
  poolFor(env.DB, loadConfig(env).poolRefreshMs).invalidate()
  return Response.json({ deleted })
}

/** The listing shape: masked key, running cooldowns only. */
function present(row: KeyRow, nowSeconds: number) {
  const cooldowns: Record<string, { until: number }> = {}
  try {
    for (const [model, until] of Object.entries(JSON.parse(row.cooldowns) as Record<string, number>)) {
      if (typeof until === 'number' && until > nowSeconds) cooldowns[model] = { until }
    }
  } catch {
    // An unreadable cooldown map is shown as none; the proxy treats it the same way.
  }
  return {
    id: row.id,
    provider: row.provider,
    key: maskKey(row.key),
    status: row.status,
    remark: row.remark,
    blockedReason: row.blockedReason,
    blockedAt: row.blockedAt,
    createdAt: row.createdAt,
    cooldowns,
  }
}
