/**
 * Reading a one-balance database: its `keys(id, key, provider, model_coolings,
 * total_cooling_seconds, status, remark, created_at, updated_at)` table, from a `wrangler d1 export`
 * file or from rows wrangler returns. Pure: the script around it does the talking.
 */
import { KEY_SHAPE } from '../../worker/admin/keys.schemas'
import { maskKey } from '../../worker/log'
import { PROVIDER_IDS } from '../../worker/providers/types'

export interface SourceKey {
  key: string
  provider: string
  status: string
  remark: string | null
}

export interface ImportGroup {
  provider: string
  status: 'active' | 'blocked'
  remark: string
  keys: string[]
}

export interface ImportPlan {
  groups: ImportGroup[]
  /**
   * Rows whose provider keyrelay does not rotate (one-balance's custom providers), by provider. A
   * provider column that does not look like a provider's name (a row whose columns slipped may hold
   * a key there) is masked like a key, so that no key is ever printed.
   */
  unknown: Map<string, number>
  /** The same key twice in the source. */
  duplicates: number
  /** Rows (1-based, in source order) whose key keyrelay would refuse: whitespace inside, or over 1 KB. */
  badRows: number[]
}

/** What one-balance's custom provider names look like: short lower-case slugs. */
const PROVIDER_NAME = /^[a-z][a-z0-9_.-]{0,23}$/

/**
 * Keys grouped as keyrelay adds them: per provider, status and remark; blocked stays blocked. A row
 * keyrelay would refuse is set aside (and reported by position) instead of failing its whole group,
 * so the dry run and the import agree.
 */
export function planImport(rows: SourceKey[]): ImportPlan {
  const groups = new Map<string, ImportGroup>()
  const unknown = new Map<string, number>()
  const seen = new Set<string>()
  const badRows: number[] = []
  let duplicates = 0
  for (const [i, row] of rows.entries()) {
    const key = row.key.trim()
    if (!key) continue
    if (!(PROVIDER_IDS as readonly string[]).includes(row.provider)) {
      const name = PROVIDER_NAME.test(row.provider) ? row.provider : maskKey(row.provider)
      unknown.set(name, (unknown.get(name) ?? 0) + 1)
      continue
    }
    if (!KEY_SHAPE.test(key)) {
      badRows.push(i + 1)
      continue
    }
    const id = `${row.provider}\0${key}`
    if (seen.has(id)) {
      duplicates++
      continue
    }
    seen.add(id)
    const status = row.status === 'blocked' ? 'blocked' : 'active'
    const remark = (row.remark ?? '').slice(0, 200)
    const group = `${row.provider}\0${status}\0${remark}`
    let g = groups.get(group)
    if (!g) groups.set(group, (g = { provider: row.provider, status, remark, keys: [] }))
    g.keys.push(key)
  }
  return { groups: [...groups.values()], unknown, duplicates, badRows }
}

/**
 * The `keys` rows of a `wrangler d1 export` file: `INSERT INTO "keys" (...) VALUES(...);` with or
 * without a column list (then in the table's order), SQL strings with '' escapes, NULLs, numbers.
 */
export function parseExport(sql: string): SourceKey[] {
  const rows: SourceKey[] = []
  const insert = /INSERT INTO\s+["`]?keys["`]?\s*(\(([^)]*)\))?\s*VALUES\s*/gi
  for (let m = insert.exec(sql); m; m = insert.exec(sql)) {
    const columns = m[2]
      ? m[2].split(',').map((c) => c.trim().replace(/^["`]|["`]$/g, ''))
      : [
          'id',
          'key',
          'provider',
          'model_coolings',
          'total_cooling_seconds',
          'status',
          'remark',
          'created_at',
          'updated_at',
        ]
    let at = insert.lastIndex
    // One statement may carry several tuples: VALUES (...), (...);
    for (;;) {
      const parsed = parseTuple(sql, at)
      if (!parsed) break
      const row = Object.fromEntries(columns.map((c, i) => [c, parsed.values[i] ?? null]))
      if (typeof row.key === 'string' && typeof row.provider === 'string') {
        rows.push({
          key: row.key,
          provider: row.provider,
          status: typeof row.status === 'string' ? row.status : 'active',
          remark: typeof row.remark === 'string' ? row.remark : null,
        })
      }
      at = parsed.end
      const rest = /^\s*,\s*/.exec(sql.slice(at, at + 16))
      if (!rest) break
      at += rest[0].length
    }
    insert.lastIndex = at
  }
  return rows
}

function parseTuple(
  sql: string,
  start: number,
): { values: (string | number | null)[]; end: number } | undefined {
  let i = start
  while (/\s/.test(sql[i] ?? '')) i++
  if (sql[i] !== '(') return undefined
  i++
  const values: (string | number | null)[] = []
  for (;;) {
    while (/\s/.test(sql[i] ?? '')) i++
    if (sql[i] === "'") {
      let text = ''
      i++
      for (;;) {
        const c = sql[i]
        if (c === undefined) return undefined
        if (c === "'" && sql[i + 1] === "'") {
          text += "'"
          i += 2
        } else if (c === "'") {
          i++
          break
        } else {
          text += c
          i++
        }
      }
      values.push(text)
    } else {
      const m = /^(NULL|-?\d+(?:\.\d+)?)/i.exec(sql.slice(i, i + 40))
      if (!m?.[1]) return undefined
      values.push(m[1].toUpperCase() === 'NULL' ? null : Number(m[1]))
      i += m[1].length
    }
    while (/\s/.test(sql[i] ?? '')) i++
    if (sql[i] === ',') {
      i++
      continue
    }
    if (sql[i] === ')') return { values, end: i + 1 }
    return undefined
  }
}
