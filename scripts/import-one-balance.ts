/**
 * `pnpm import:one-balance`: moves the keys of a one-balance deployment into keyrelay, through
 * keyrelay's admin API (so they are sealed, deduplicated and seen by every isolate like any add).
 *
 *   pnpm import:one-balance --db <D1 name> [--local [--persist-to DIR]] [--url URL] [--dry-run]
 *   pnpm import:one-balance --file <wrangler d1 export .sql> [--url URL] [--dry-run]
 *
 * Blocked keys stay blocked (reason "imported"), remarks are kept, duplicates are skipped; the dry
 * run prints the counts (and how many keyrelay already has) and changes nothing. AUTH_KEY comes from
 * the environment or .dev.vars and is never printed; neither is any key.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { adminSecret } from './doctor'
import { parseExport, planImport, type ImportPlan, type SourceKey } from './import/one-balance'

const QUERY = 'SELECT key, provider, status, remark FROM keys'

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}

/** Runs the project's wrangler; its output is returned, not shown. */
function wrangler(args: string[]): string {
  const r = spawnSync('wrangler', args, {
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
  })
  if (r.status !== 0)
    throw new Error(`wrangler ${args.slice(0, 3).join(' ')} failed:\n${(r.stdout ?? '') + (r.stderr ?? '')}`)
  return r.stdout
}

/** A one-balance D1 by name, read through wrangler (remote by default, or --local). */
export function readDatabase(
  name: string,
  options: { local: boolean; persistTo?: string | undefined },
): SourceKey[] {
  const dir = mkdtempSync(join(tmpdir(), 'keyrelay-import-'))
  try {
    // wrangler finds a database through a config file: one naming just this database.
    let id = '00000000-0000-0000-0000-000000000000'
    if (!options.local) {
      const list = JSON.parse(wrangler(['d1', 'list', '--json'])) as { uuid: string; name: string }[]
      const found = list.find((d) => d.name === name)
      if (!found)
        throw new Error(`No D1 database named "${name}" on this account (see \`wrangler d1 list\`).`)
      id = found.uuid
    }
    const config = join(dir, 'wrangler.toml')
    writeFileSync(
      config,
      `name = "keyrelay-import"\ncompatibility_date = "2026-04-20"\n[[d1_databases]]\nbinding = "SOURCE"\ndatabase_name = "${name}"\ndatabase_id = "${id}"\n`,
    )
    const where = options.local
      ? ['--local', '--persist-to', options.persistTo ?? join(process.cwd(), '.wrangler/state')]
      : ['--remote']
    const out = wrangler(['d1', 'execute', name, ...where, '--config', config, '--json', '--command', QUERY])
    const parsed = JSON.parse(out) as { results?: SourceKey[] }[]
    return parsed.flatMap((r) => r.results ?? [])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

interface Target {
  url: string
  authKey: string
}

async function admin<T>(target: Target, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${target.url.replace(/\/+$/, '')}/admin/api${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminSecret(target.authKey)}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const json = (await res.json().catch(() => ({}))) as T & { error?: { code?: string; message?: string } }
  if (!res.ok)
    throw new Error(`keyrelay answered ${res.status} ${json.error?.code ?? ''}: ${json.error?.message ?? ''}`)
  return json
}

const CHUNK = 10_000

/** Prints the plan; unless a dry run, adds every group. Returns the totals. */
export async function runImport(
  plan: ImportPlan,
  target: Target,
  options: { dryRun: boolean },
  print: (line: string) => void = console.log,
): Promise<{ added: number; skipped: number; existing: number }> {
  let added = 0
  let skipped = 0
  let existing = 0
  for (const g of plan.groups) {
    for (let i = 0; i < g.keys.length; i += CHUNK) {
      const keys = g.keys.slice(i, i + CHUNK)
      const label = `${g.provider}, ${g.status}${g.remark ? `, remark "${g.remark}"` : ''}`
      if (options.dryRun) {
        const p = await admin<{ new: number; existing: number }>(target, '/keys/preview', {
          provider: g.provider,
          keys,
        })
        existing += p.existing
        print(`  ${label}: ${keys.length} key(s), ${p.new} new, ${p.existing} already in keyrelay`)
        continue
      }
      const r = await admin<{ added: number; skipped: number }>(target, '/keys', {
        provider: g.provider,
        keys,
        remark: g.remark || undefined,
        ...(g.status === 'blocked' ? { status: 'blocked', blockedReason: 'imported' } : {}),
      })
      added += r.added
      skipped += r.skipped
      print(`  ${label}: ${r.added} added, ${r.skipped} already there`)
    }
  }
  for (const [provider, n] of plan.unknown)
    print(`  ${provider}: ${n} key(s) skipped (not a provider keyrelay rotates)`)
  if (plan.duplicates > 0) print(`  ${plan.duplicates} duplicate row(s) in the source, counted once`)
  if (plan.badRows.length > 0) {
    const rows = plan.badRows.slice(0, 20).join(', ') + (plan.badRows.length > 20 ? ', …' : '')
    print(
      `  ${plan.badRows.length} row(s) skipped, their key is not a key (whitespace inside, or over 1 KB): row ${rows}`,
    )
  }
  return { added, skipped, existing }
}

function authKey(): string | undefined {
  if (process.env.AUTH_KEY) return process.env.AUTH_KEY
  return existsSync('.dev.vars')
    ? /^AUTH_KEY=(.*)$/m.exec(readFileSync('.dev.vars', 'utf8'))?.[1]?.trim()
    : undefined
}

const USAGE =
  'Usage: pnpm import:one-balance --db <D1 name> [--local [--persist-to DIR]] | --file <export.sql>  [--url URL] [--dry-run]\n' +
  'AUTH_KEY (of the keyrelay at --url, default http://localhost:8787) comes from the environment or .dev.vars.'

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE)
    return
  }
  const file = flag('file')
  const db = flag('db')
  const url = flag('url') ?? 'http://localhost:8787'
  const dryRun = process.argv.includes('--dry-run')
  const key = authKey()
  const missing = [
    !file && !db
      ? 'where the one-balance keys are: --db <D1 database name> or --file <wrangler d1 export file>'
      : '',
    !key ? `AUTH_KEY of the keyrelay at ${url}: export AUTH_KEY=…, or run this where .dev.vars holds it` : '',
  ].filter(Boolean)
  if (missing.length > 0) {
    console.error(`✖ Missing ${missing.join('; and ')}.\n\n${USAGE}`)
    process.exit(2)
  }
  const rows = file
    ? parseExport(readFileSync(file, 'utf8'))
    : readDatabase(db as string, { local: process.argv.includes('--local'), persistTo: flag('persist-to') })
  const plan = planImport(rows)
  console.log(
    `${dryRun ? 'Dry run: nothing is changed.\n' : ''}one-balance: ${rows.length} row(s) read; into ${url}:`,
  )
  const totals = await runImport(plan, { url, authKey: key as string }, { dryRun })
  console.log(
    dryRun
      ? `\n${plan.groups.reduce((n, g) => n + g.keys.length, 0)} key(s) to import, ${totals.existing} already in keyrelay. Run without --dry-run to import.`
      : `\nDone: ${totals.added} added, ${totals.skipped} already there.`,
  )
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    console.error(`✖ ${e instanceof Error ? e.message : String(e)}`)
    process.exit(1)
  })
}
