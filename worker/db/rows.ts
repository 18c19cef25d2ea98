/**
 * The one row model of the `keys` table. Row types come from the drizzle schema (`$inferSelect`,
 * type-only: drizzle itself stays out of the Worker's bundle), and every SELECT or RETURNING list
 * is built here from the same names, aliased to the row's camelCase fields. A column added to the
 * schema must be added to `KEY_COLUMNS` (the compiler says so), and then every reader can ask for it.
 */
import type { keys } from './schema'

export type KeyRow = typeof keys.$inferSelect

type Field = keyof KeyRow

/** Each field's column, checked against the schema's own column names. */
const KEY_COLUMNS: { [F in Field]: (typeof keys)[F]['_']['name'] } = {
  id: 'id',
  provider: 'provider',
  key: 'key',
  fingerprint: 'fingerprint',
  status: 'status',
  remark: 'remark',
  keyGroup: 'key_group',
  weight: 'weight',
  tier: 'tier',
  blockedReason: 'blocked_reason',
  blockedAt: 'blocked_at',
  cooldowns: 'cooldowns',
  cooldownReasons: 'cooldown_reasons',
  cooldownNext: 'cooldown_next',
  seq: 'seq',
  createdAt: 'created_at',
  checkedAt: 'checked_at',
  deletedAt: 'deleted_at',
}

/** A column list and the row type it reads, made from one tuple of field names. */
export interface Selection<F extends Field> {
  /** `id, blocked_reason AS blockedReason, …`, for SELECT and RETURNING. */
  readonly sql: string
  /** Type-level only: the row a statement selecting `sql` returns. */
  readonly row?: Pick<KeyRow, F>
}

export type RowOf<S> = S extends Selection<infer F> ? Pick<KeyRow, F> : never

export function selection<F extends Field>(...fields: F[]): Selection<F> {
  const sql = fields
    .map((f) => ((KEY_COLUMNS[f] as string) === f ? f : `${KEY_COLUMNS[f]} AS ${f}`))
    .join(', ')
  return { sql }
}

/** What the request path's pool view holds of a key. */
export const POOL_ROW = selection(
  'id',
  'provider',
  'key',
  'status',
  'cooldowns',
  'seq',
  'keyGroup',
  'weight',
  'tier',
)
export type PoolRow = RowOf<typeof POOL_ROW>

/** What a health check needs of a key. */
export const CHECK_ROW = selection('id', 'provider', 'key', 'status')
export type CheckRow = RowOf<typeof CHECK_ROW>

/** What the dashboard shows of a key. */
export const ADMIN_ROW = selection(
  'id',
  'provider',
  'key',
  'status',
  'remark',
  'keyGroup',
  'weight',
  'tier',
  'blockedReason',
  'blockedAt',
  'cooldowns',
  'cooldownReasons',
  'seq',
  'createdAt',
  'checkedAt',
)
export type AdminRow = RowOf<typeof ADMIN_ROW>
