import type { Env } from '../config'
import { deleteKeys, insertKeys, listKeys, updateKey } from '../db/admin.repo'
import { dbFor } from '../db/client'
import { AppError } from '../http/errors'
import { parseJsonBody, parseQuery } from '../http/validate'
import { poolFor } from '../pool/pool'
import { requireAdmin } from './guard'
import { presentKey } from './present'
import {
  AddKeysBody,
  DeleteKeysBody,
  KeyIdParam,
  ListKeysQuery,
  normaliseKeys,
  PatchKeyBody,
} from './keys.schemas'

export async function addKeys(request: Request, env: Env): Promise<Response> {
  const config = await requireAdmin(request, env)
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
  poolFor(env.DB, config.poolRefreshMs).invalidate(body.provider)
  return Response.json({ added, skipped: duplicates + unique.length - added })
}

export async function getKeys(request: Request, env: Env): Promise<Response> {
  await requireAdmin(request, env)
  const query = parseQuery(new URL(request.url), ListKeysQuery)
  const { rows, total } = await listKeys(dbFor(env.DB), query)
  const now = Date.now() / 1000
  return Response.json({ keys: rows.map((r) => presentKey(r, now)), total })
}

export async function removeKeys(request: Request, env: Env): Promise<Response> {
  const config = await requireAdmin(request, env)
  const body = await parseJsonBody(request, DeleteKeysBody)
  const deleted = await deleteKeys(env.DB, [...new Set(body.ids)])
  poolFor(env.DB, config.poolRefreshMs).invalidate()
  return Response.json({ deleted })
}

/** `PATCH /admin/api/keys/:id`: block or unblock by hand, clear cooldowns, edit the remark. */
export async function patchKey(
  request: Request & { params: Record<string, string> },
  env: Env,
): Promise<Response> {
  const config = await requireAdmin(request, env)
  const id = KeyIdParam.safeParse(request.params.id)
  if (!id.success) throw new AppError(400, 'invalid_id', 'The key id must be a positive integer')
  const patch = await parseJsonBody(request, PatchKeyBody)
  const row = await updateKey(dbFor(env.DB), id.data, patch, Math.floor(Date.now() / 1000))
  if (!row) throw new AppError(404, 'key_not_found', `No key with id ${id.data}`)
  poolFor(env.DB, config.poolRefreshMs).invalidate(row.provider)
  return Response.json(presentKey(row, Date.now() / 1000))
}
