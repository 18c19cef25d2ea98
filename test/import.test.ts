import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { parseExport, planImport } from '../scripts/import/one-balance'
import { readDatabase, runImport } from '../scripts/import-one-balance'
import { ROOT } from './build'
import { AUTH_KEY, startWorker, type Harness } from './harness'
import { adminHeaders } from './helpers'

// `pnpm import:one-balance` (issue 15): one-balance's own schema and rows, into a running keyrelay.
const SCHEMA = readFileSync(join(ROOT, 'test/import/one-balance-schema.sql'), 'utf8')
const g = (n: number) => `AIzaSyONEBALANCE-${String(n).padStart(20, '0')}`
/** Rows as one-balance stores them: cooldown JSON, a blocked key, a remark with a quote, a custom provider. */
const INSERTS = [
  `INSERT INTO "keys" VALUES('0b1c','${g(1)}','google-ai-studio','{"gemini-2.5-pro":{"total_seconds":60,"end_at":1700000000}}',60,'active','team''s free tier',1700000000,1700000000);`,
  `INSERT INTO "keys" VALUES('0b1d','${g(2)}','google-ai-studio',NULL,0,'active','team''s free tier',1700000000,1700000000);`,
  `INSERT INTO "keys" VALUES('0b1e','${g(3)}','google-ai-studio',NULL,0,'blocked',NULL,1700000000,1700000000);`,
  `INSERT INTO "keys" ("id","key","provider","model_coolings","total_cooling_seconds","status","remark","created_at","updated_at") VALUES('0b1f','sk-onebalance-000000000000001','openai',NULL,0,'active',NULL,1700000000,1700000000);`,
  `INSERT INTO "keys" VALUES('0b20','custom-provider-key-0000000001','my-custom-llm',NULL,0,'active',NULL,1700000000,1700000000);`,
]
const EXPORT = `PRAGMA defer_foreign_keys=TRUE;\n${SCHEMA}\n${INSERTS.join('\n')}\n`

let h: Harness
beforeAll(async () => {
  h = await startWorker()
})
afterAll(() => h.dispose())

const listed = async (provider: string) =>
  (
    (await (await h.fetch(`/admin/api/keys?provider=${provider}`, { headers: adminHeaders() })).json()) as {
      keys: { key: string; status: string; remark: string; blockedReason: string | null }[]
    }
  ).keys

describe('pnpm import:one-balance', () => {
  test('an export file: a dry run counts and changes nothing; the import keeps status and remark; again, nothing new', async () => {
    const plan = planImport(parseExport(EXPORT))
    expect(plan.unknown).toEqual(new Map([['my-custom-llm', 1]]))
    const out: string[] = []
    const dry = await runImport(plan, { url: h.url, authKey: AUTH_KEY }, { dryRun: true }, (l) => out.push(l))
    expect(dry.existing).toBe(0)
    expect(out.join('\n')).toContain(`google-ai-studio, active, remark "team's free tier": 2 key(s), 2 new`)
    expect(out.join('\n')).toContain('my-custom-llm: 1 key(s) skipped')
    expect(await listed('google-ai-studio')).toEqual([])

    const done = await runImport(plan, { url: h.url, authKey: AUTH_KEY }, { dryRun: false }, () => undefined)
    expect(done).toMatchObject({ added: 4, skipped: 0 })
    const google = await listed('google-ai-studio')
    expect(google.map((k) => [k.status, k.remark, k.blockedReason])).toEqual([
      ['active', "team's free tier", null],
      ['active', "team's free tier", null],
      ['blocked', '', 'imported'],
    ])
    expect(await listed('openai')).toHaveLength(1)
    // Nothing printed holds a key.
    for (const line of out) expect(line).not.toMatch(/AIzaSyONEBALANCE|sk-onebalance/)

    const again = await runImport(plan, { url: h.url, authKey: AUTH_KEY }, { dryRun: false }, () => undefined)
    expect(again).toMatchObject({ added: 0, skipped: 4 })
  })

  test('a bad row is reported by position and the rest imported; the dry run says the same; odd provider names never print a key', async () => {
    const bad = `INSERT INTO "keys" VALUES('0b30','a key with spaces inside','openrouter',NULL,0,'active',NULL,1700000000,1700000000);`
    const constructorRow = `INSERT INTO "keys" VALUES('0b31','sk-ctor-key-000000000000001','constructor',NULL,0,'active',NULL,1700000000,1700000000);`
    const keyAsProvider = `INSERT INTO "keys" VALUES('0b32','x','AIzaSyZKEYINTHEPROVIDERCOLUMN0000stuv',NULL,0,'active',NULL,1700000000,1700000000);`
    const good = `INSERT INTO "keys" VALUES('0b33','sk-or-v1-onebalance-0000000001','openrouter',NULL,0,'active',NULL,1700000000,1700000000);`
    const plan = planImport(parseExport([bad, constructorRow, keyAsProvider, good].join('\n')))
    expect(plan.badRows).toEqual([1])
    const dryOut: string[] = []
    await runImport(plan, { url: h.url, authKey: AUTH_KEY }, { dryRun: true }, (l) => dryOut.push(l))
    const out: string[] = []
    const done = await runImport(plan, { url: h.url, authKey: AUTH_KEY }, { dryRun: false }, (l) =>
      out.push(l),
    )
    expect(done.added).toBe(1)
    expect(await listed('openrouter')).toHaveLength(1)
    for (const lines of [dryOut, out]) {
      const text = lines.join('\n')
      expect(text).toContain('1 row(s) skipped, their key is not a key')
      expect(text).toContain('constructor: 1 key(s) skipped')
      expect(text).not.toContain('function')
      expect(text).not.toContain('AIzaSyZKEY')
      expect(text).toContain('AIza…stuv: 1 key(s) skipped')
      expect(text).not.toContain('a key with spaces')
    }
  })

  test('--help prints the usage and succeeds; a missing AUTH_KEY is named, not just the usage', () => {
    // From a folder without .dev.vars, so a developer's own AUTH_KEY is not found there.
    const cwd = mkdtempSync(join(tmpdir(), 'keyrelay-import-cli-'))
    const tsx = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['--import', tsx, join(ROOT, 'scripts/import-one-balance.ts'), ...args], {
        cwd,
        encoding: 'utf8',
        env: { ...process.env, AUTH_KEY: '' },
      })
    const help = run(['--help'])
    expect(help.status).toBe(0)
    expect(help.stdout).toContain('Usage: pnpm import:one-balance')
    const noKey = run(['--file', 'none.sql', '--url', 'http://127.0.0.1:9'])
    expect(noKey.status).toBe(2)
    expect(noKey.stderr).toContain('Missing AUTH_KEY of the keyrelay at http://127.0.0.1:9')
  })

  test("a local D1 made by one-balance's own migration, read through wrangler", () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyrelay-one-balance-'))
    const config = join(dir, 'wrangler.toml')
    writeFileSync(
      config,
      'name = "one-balance"\ncompatibility_date = "2026-04-20"\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "one-balance"\ndatabase_id = "00000000-0000-0000-0000-000000000000"\n',
    )
    writeFileSync(join(dir, 'seed.sql'), `${SCHEMA}\n${INSERTS.join('\n')}\n`)
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'))
    const path = process.env.PATH
    process.env.PATH = `${join(ROOT, 'node_modules/.bin')}:${path}`
    try {
      const state = join(dir, 'state')
      const seeded = spawnSync(
        'wrangler',
        [
          'd1',
          'execute',
          'one-balance',
          '--local',
          '--persist-to',
          state,
          '--config',
          config,
          '--file',
          join(dir, 'seed.sql'),
        ],
        { encoding: 'utf8', env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' } },
      )
      expect(seeded.status, seeded.stderr).toBe(0)
      const rows = readDatabase('one-balance', { local: true, persistTo: state })
      expect(rows.map((r) => [r.provider, r.status, r.remark])).toEqual([
        ['google-ai-studio', 'active', "team's free tier"],
        ['google-ai-studio', 'active', "team's free tier"],
        ['google-ai-studio', 'blocked', null],
        ['openai', 'active', null],
        ['my-custom-llm', 'active', null],
      ])
      expect(rows.map((r) => r.key)).toEqual(parseExport(EXPORT).map((r) => r.key))
    } finally {
      process.env.PATH = path
    }
  }, 60_000)
})
