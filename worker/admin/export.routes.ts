import type { Env } from '../config'
import { adminBody } from './body'
import { maskKey } from '../log'
import type { AdminRow } from '../db/rows'
import { adminView } from './admin-view'
import { ExportBody } from './keys.schemas'
import { displayStatus } from './present'

/** A CSV cell, quoted, and defused against spreadsheet formulas (a remark may start with `=`). */
function cell(value: string | number | null): string {
  const text = value === null ? '' : String(value)
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text
  return `"${safe.replace(/"/g, '""')}"`
}

/**
 * `POST /admin/api/keys/export`: the selection as text (one key per line) or CSV. Keys are masked
 * unless `full: true` is asked for; a POST (with the session's Origin check), never a link.
 */
export async function exportKeys(request: Request, env: Env): Promise<Response> {
  const body = await adminBody(request, env, ExportBody)
  const wanted = body.ids ? new Set(body.ids) : undefined
  const rows = (await adminView(env))
    .list()
    .filter((r) => (!wanted || wanted.has(r.id)) && (!body.provider || r.provider === body.provider))
    .sort((a, b) => a.id - b.id)
  const key = (r: AdminRow) => (body.full ? r.key : maskKey(r.key))
  const now = Date.now() / 1000
  const text =
    body.format === 'csv'
      ? [
          'id,provider,key,state,remark,blocked_reason',
          ...rows.map((r) =>
            [r.id, r.provider, key(r), displayStatus(r, now), r.remark, r.blockedReason].map(cell).join(','),
          ),
        ].join('\n')
      : rows.map(key).join('\n')
  const type = body.format === 'csv' ? 'text/csv' : 'text/plain'
  return new Response(`${text}\n`, {
    headers: {
      'content-type': `${type}; charset=utf-8`,
      'content-disposition': `attachment; filename="keyrelay-keys.${body.format}"`,
      'cache-control': 'no-store',
    },
  })
}
