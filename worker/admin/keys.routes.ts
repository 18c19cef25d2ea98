import type { IRequest } from 'itty-router'
import { settleAll } from '../db/shared-read'
import { loadConfig, type Env } from '../config'
import { AppError } from '../http/errors'
import { parseQuery } from '../http/validate'
import { adminBody } from './body'
import { keyStateFor } from '../pool/key-state'
import { PROVIDERS } from '../providers/registry'
import { adminView, unopenable } from './admin-view'
import { queryKeys } from './keys.query'
import {
  AddKeysBody,
  classifyKeys,
  DeleteKeysBody,
  KeyIdParam,
  ListKeysQuery,
  normaliseKeys,
  PatchKeyBody,
  PatchKeysBody,
  PreviewBody,
} from './keys.schemas'
import { presentKey } from './present'
import { keyWeek, recentByKey, usageByKey } from './usage-cache'
import { addCounts, zeroCounts, type Counts } from '../db/counts'
import type { AdminRow } from '../db/rows'
import { parseLastError } from '../db/stats.repo'

const nowSeconds = () => Date.now() / 1000
const keyState = (env: Env) => keyStateFor(env.DB, loadConfig(env))

export async function addKeys(request: Request, env: Env): Promise<Response> {
  const body = await adminBody(request, env, AddKeysBody)
  const { unique, duplicates, malformedAt } = normaliseKeys(body.keys)
  if (malformedAt !== undefined) {
    // Name the position, not the value: a malformed entry may still be most of a secret.
    throw new AppError(
      400,
      'invalid_key',
      `keys[${malformedAt}] is not a key (whitespace inside, or over 1 KB)`,
    )
  }
  // This isolate's next request sees the new keys at once; other isolates at their next refresh.
  const { added, ids } = await keyState(env).add({
    provider: body.provider,
    keys: unique,
    remark: body.remark ?? '',
    nowSeconds: Math.floor(nowSeconds()),
    status: body.status,
    blockedReason: body.blockedReason,
    group: body.group,
    weight: body.weight,
    tier: body.tier,
  })
  // Keys sealed with a replaced ENCRYPTION_KEY cannot be compared with the new ones: say that some of
  // these may now be stored twice, rather than let it happen silently.
  const stale = (await adminView(env)).list().filter((r) => r.provider === body.provider && unopenable(r))
  return Response.json({
    added,
    skipped: duplicates + unique.length - added,
    ids,
    ...(stale.length > 0
      ? {
          unopenable: stale.length,
          warning: `${stale.length} stored ${body.provider} key(s) cannot be opened with this ENCRYPTION_KEY, so they could not be compared with these: any of them re-added here is now stored twice. Delete them (DELETE /admin/api/keys {"unopenable": true}) once the new ones serve.`,
        }
      : {}),
  })
}

/** `POST /admin/api/keys/preview`: how many pasted keys are new, duplicates or malformed; stores nothing. */
export async function previewKeys(request: Request, env: Env): Promise<Response> {
  const body = await adminBody(request, env, PreviewBody)
  const { unique, duplicates, malformed } = classifyKeys(body.keys)
  const stored = new Set(
    (await adminView(env))
      .list()
      .filter((r) => r.provider === body.provider)
      .map((r) => r.key),
  )
  const existing = unique.filter((k) => stored.has(k)).length
  // Keys that do not look like this provider's (a paste into the wrong provider, a half-copied key):
  // the dashboard asks before adding them.
  const shape = PROVIDERS[body.provider].keyShape
  const unusual = shape ? unique.filter((k) => !shape.pattern.test(k)).length : 0
  return Response.json({
    new: unique.length - existing,
    existing,
    duplicates,
    malformed,
    unusual,
    ...(shape ? { looksLike: shape.looksLike } : {}),
  })
}

/** `GET /admin/api/keys?provider=&status=&q=&sort=&order=&limit=&offset=`, served from the AdminView. */
export async function getKeys(request: Request, env: Env): Promise<Response> {
  const query = parseQuery(new URL(request.url), ListKeysQuery)
  const [view, usage] = await settleAll([adminView(env), recentByKey(env.DB)])
  const now = nowSeconds()
  const rows = queryKeys(view.list(), query, usage, now)
  const page = rows.slice(query.offset, query.offset + query.limit)
  return Response.json({
    keys: page.map((r) => presentKey(r, now, usage.get(r.id), view.mask(r))),
    total: rows.length,
  })
}

export async function removeKeys(request: Request, env: Env): Promise<Response> {
  const body = await adminBody(request, env, DeleteKeysBody)
  let ids: number[]
  if ('ids' in body) ids = [...new Set(body.ids)]
  else {
    const match = 'unopenable' in body ? unopenable : (r: AdminRow) => r.status === 'blocked'
    ids = (await adminView(env))
      .list()
      .filter((r) => match(r) && (!body.provider || r.provider === body.provider))
      .map((r) => r.id)
  }
  return Response.json({ deleted: await keyState(env).remove(ids) })
}

/** `PATCH /admin/api/keys/:id`: block or unblock by hand, clear cooldowns, edit the remark. */
export async function patchKey(request: IRequest, env: Env): Promise<Response> {
  const id = KeyIdParam.safeParse(request.params.id)
  if (!id.success) throw new AppError(400, 'invalid_id', 'The key id must be a positive integer')
  const changes = await adminBody(request, env, PatchKeyBody)
  if ((await keyState(env).update([id.data], changes, Math.floor(nowSeconds()))) === 0) {
    throw new AppError(404, 'key_not_found', `No key with id ${id.data}`)
  }
  const view = await adminView(env)
  const row = view.get(id.data)
  if (!row) throw new AppError(404, 'key_not_found', `No key with id ${id.data}`)
  return Response.json(presentKey(row, nowSeconds(), undefined, view.mask(row)))
}

/** `PATCH /admin/api/keys {ids, ...}`: the same change for many keys (the dashboard's bulk actions). */
export async function patchKeys(request: Request, env: Env): Promise<Response> {
  const { ids, ...changes } = await adminBody(request, env, PatchKeysBody)
  const updated = await keyState(env).update([...new Set(ids)], changes, Math.floor(nowSeconds()))
  return Response.json({ updated })
}

/**
 * `GET /admin/api/keys/:id`: one key with everything the dashboard's detail view shows: its state,
 * its usage per hour over seven days, and its recent errors (status, reason code, model, time;
 * never a provider's text). Reads that key's usage rows only.
 */
export async function getKey(request: IRequest, env: Env): Promise<Response> {
  const id = KeyIdParam.safeParse(request.params.id)
  if (!id.success) throw new AppError(400, 'invalid_id', 'The key id must be a positive integer')
  const view = await adminView(env)
  const row = view.get(id.data)
  if (!row) throw new AppError(404, 'key_not_found', `No key with id ${id.data}`)
  const now = Math.floor(Date.now() / 1000)
  const usage = await keyWeek(env.DB, id.data)
  const hourly = new Map<number, Counts & { hour: number }>()
  for (const r of usage) {
    const h = hourly.get(r.hour) ?? { hour: r.hour, ...zeroCounts() }
    addCounts(h, r)
    hourly.set(r.hour, h)
  }
  const errors = usage
    .flatMap((r) => {
      const e = parseLastError(r.lastError)
      return e ? [{ ...e, model: r.model }] : []
    })
    .sort((a, b) => b.at - a.at)
    .slice(0, 20)
  return Response.json({
    key: presentKey(row, now, usageByKey(usage).get(id.data), view.mask(row)),
    hourly: [...hourly.values()].sort((a, b) => a.hour - b.hour),
    errors,
  })
}
