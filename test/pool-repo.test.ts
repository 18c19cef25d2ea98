import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { PoolRow } from '../worker/db/rows'
import { REPO_BUNDLE } from './build'
import { startWorker, type Harness } from './harness'
import { anthropicKey, openaiKey } from './helpers'

// The request path's SQL, run inside workerd as the Worker runs it, against a local D1 with the
// committed migrations; each answer carries the D1 rows the calls read and wrote.
let h: Harness
let ids: number[]
beforeAll(async () => {
  h = await startWorker({ scriptPath: REPO_BUNDLE, assets: false })
  await run([
    'insertKeys',
    {
      provider: 'openai',
      keys: Array.from({ length: 200 }, (_, i) => openaiKey(i)),
      remark: '',
      nowSeconds: 1,
    },
  ])
  const rows = (await run(['sql', "SELECT id FROM keys WHERE provider = 'openai' ORDER BY id"]))
    .results[0] as { id: number }[]
  ids = rows.map((r) => r.id)
})
afterAll(() => h.dispose())

interface Usage {
  queries: number
  rowsRead: number
  rowsWritten: number
}

/** Runs storage functions in the repo Worker; several calls in one go run concurrently. */
async function run(...calls: [string, ...unknown[]][]): Promise<{ results: unknown[]; usage: Usage }> {
  const res = await h.fetch('/', {
    method: 'POST',
    body: JSON.stringify(calls.map(([fn, ...args]) => ({ fn, args }))),
  })
  if (res.status !== 200) throw new Error(`repo worker: ${res.status} ${await res.text()}`)
  return (await res.json()) as { results: unknown[]; usage: Usage }
}
const one = async <T>(fn: string, ...args: unknown[]) => (await run([fn, ...args])).results[0] as T
const cooldownsOf = async (id: number) =>
  JSON.parse((await one<{ cooldowns: string }>('row', id)).cooldowns) as Record<string, number>

const reasonsOf = async (id: number) =>
  JSON.parse((await one<{ cooldown_reasons: string }>('row', id)).cooldown_reasons) as Record<string, string>

describe('setCooldown', () => {
  test('a longer cooldown replaces a shorter one; a shorter one never shortens it', async () => {
    const id = ids[0]!
    await one('setCooldown', id, 'gpt-4o', 1000, 'rate_limited')
    const longer = await one<PoolRow>('setCooldown', id, 'gpt-4o', 5000, 'daily_quota')
    expect((await cooldownsOf(id))['gpt-4o']).toBe(5000)
    // A shorter one writes nothing at all: the row keeps its seq, so no isolate reads it again.
    expect(await one('setCooldown', id, 'gpt-4o', 2000, 'rate_limited')).toBeNull()
    expect((await cooldownsOf(id))['gpt-4o']).toBe(5000)
    expect((await one<{ seq: number }>('row', id)).seq).toBe(longer.seq)
    // The reason goes with the cooldown that wins: the shorter one did not replace it.
    expect(await reasonsOf(id)).toEqual({ 'gpt-4o': 'daily_quota' })
    // The soonest expiry is kept for the sweep: never later than a running cooldown.
    expect((await one<{ cooldown_next: number }>('row', id)).cooldown_next).toBe(1000)
  })

  test('isolates meeting one key moments apart write its cooldown once', async () => {
    const id = ids[4]!
    const first = await run(['setCooldown', id, 'gpt-4o', 30_057, 'rate_limited'])
    expect(first.usage.rowsWritten).toBeGreaterThan(0)
    // The same 429 seen a second later elsewhere: an expiry within 2 s of the running one.
    for (const until of [30_057, 30_058, 30_059]) {
      const again = await run(['setCooldown', id, 'gpt-4o', until, 'rate_limited'])
      expect(again.results[0]).toBeNull()
      expect(again.usage.rowsWritten).toBe(0)
    }
    // Further out than that (a longer quota), it is written.
    expect(await one<PoolRow>('setCooldown', id, 'gpt-4o', 30_060, 'rate_limited')).toMatchObject({ id })
    expect((await cooldownsOf(id))['gpt-4o']).toBe(30_060)
  })

  test('concurrent cooldowns for different models of one key are all kept', async () => {
    const id = ids[1]!
    const models = Array.from({ length: 20 }, (_, i) => `model-${i}.v1:latest`)
    await run(...models.map((m, i): [string, ...unknown[]] => ['setCooldown', id, m, 10_000 + i, `r${i}`]))
    const stored = await cooldownsOf(id)
    for (const [i, m] of models.entries()) expect(stored[m]).toBe(10_000 + i)
    const reasons = await reasonsOf(id)
    for (const [i, m] of models.entries()) expect(reasons[m]).toBe(`r${i}`)
  })

  test('the scope is bound as a value: a name that would break a JSON path is stored as it is', async () => {
    const id = ids[3]!
    // Names the Worker never admits (toModelName), written straight to storage: nothing may escape.
    const scopes = ['a"b', 'x.y', '$', "it's", '[0]']
    for (const [i, s] of scopes.entries()) await one('setCooldown', id, s, 20_000 + i, 'rate_limited')
    expect(await cooldownsOf(id)).toEqual(Object.fromEntries(scopes.map((s, i) => [s, 20_000 + i])))
  })

  test('does nothing to a key that is no longer active', async () => {
    const id = ids[2]!
    expect(await one('blockKey', id, 'API_KEY_INVALID', 123)).toMatchObject({ status: 'blocked' })
    expect(await one('setCooldown', id, 'gpt-4o', 9999, 'rate_limited')).toBeNull()
    expect(await cooldownsOf(id)).toEqual({})
    // Blocking twice changes nothing: the write is idempotent, so retrying it is safe.
    expect(await one('blockKey', id, 'other', 456)).toBeNull()
    expect(await one('row', id)).toMatchObject({ blocked_reason: 'API_KEY_INVALID', blocked_at: 123 })
  })
})

describe('incremental refresh', () => {
  test('every write moves the row past the provider maximum, so changedSince finds exactly it', async () => {
    const { maxSeq } = await one<{ maxSeq: number }>('loadProviderPool', 'openai')
    const row = await one<PoolRow>('setCooldown', ids[10]!, 'gpt-4o', 7777, 'rate_limited')
    expect(row.seq).toBe(maxSeq + 1)
    expect((await one<PoolRow[]>('changedSince', 'openai', maxSeq)).map((r) => r.id)).toEqual([ids[10]])
    expect(await one('changedSince', 'openai', row.seq)).toEqual([])
  })

  test('a refresh reads only changed rows, and a write reads and writes a handful, not the pool', async () => {
    const { maxSeq } = await one<{ maxSeq: number }>('loadProviderPool', 'openai')
    expect((await run(['changedSince', 'openai', maxSeq])).usage.rowsRead).toBeLessThanOrEqual(1)
    const write = (await run(['setCooldown', ids[20]!, 'gpt-4o', 8888, 'rate_limited'])).usage
    expect(write.queries).toBe(1)
    expect(write.rowsRead).toBeLessThanOrEqual(4)
    expect(write.rowsWritten).toBeGreaterThan(0)
    expect(write.rowsWritten).toBeLessThanOrEqual(6)
  })
})

describe('a cold load', () => {
  test('reads the pages and only the keys whose state differs, and gets every key right', async () => {
    const { results, usage } = await run(['loadProviderPool', 'openai'])
    const pool = results[0] as { rows: PoolRow[] }
    // 200 keys: one page, plus the handful blocked or cooling above, plus max(seq).
    expect(usage.rowsRead).toBeLessThanOrEqual(12)
    expect(pool.rows).toHaveLength(200)
    const byId = new Map(pool.rows.map((r) => [r.id, r]))
    expect(byId.get(ids[2]!)?.status).toBe('blocked')
    expect(JSON.parse(byId.get(ids[0]!)!.cooldowns)['gpt-4o']).toBe(5000)
    expect(byId.get(ids[150]!)).toMatchObject({ status: 'active', cooldowns: '{}' })
    // Pages hold keys sealed; they open to the key that was added.
    expect(await one('openKey', byId.get(ids[150]!)!.key)).toBe(openaiKey(150))
  })

  test('pages follow adds and deletes, in pages of 1,000', async () => {
    const groqKeys = Array.from({ length: 2500 }, (_, i) => `gsk-${i}`)
    await one('insertKeys', { provider: 'groq', keys: groqKeys, remark: '', nowSeconds: 1 })
    const pages = await one<{ page: number }[]>(
      'sql',
      "SELECT page FROM key_pages WHERE provider = 'groq' ORDER BY page",
    )
    expect(pages.map((p) => p.page)).toEqual([0, 1, 2])
    const groq = await one<{ rows: PoolRow[] }>('loadProviderPool', 'groq')
    expect(groq.rows).toHaveLength(2500)
    const gone = groq.rows.slice(0, 10).map((r) => r.id)
    expect(await one('deleteKeys', gone)).toBe(10)
    const after = await one<{ rows: PoolRow[] }>('loadProviderPool', 'groq')
    expect(after.rows).toHaveLength(2490)
    expect(after.rows.some((r) => gone.includes(r.id))).toBe(false)
    expect(JSON.stringify(after.rows)).not.toContain('deleted:')
  })
})

describe('samplePoolStates', () => {
  test('counts each provider’s keys, cooling and blocked, reading only the keys not in their default state', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => anthropicKey(i))
    await one('insertKeys', { provider: 'anthropic', keys, remark: '', nowSeconds: 1 })
    const rows = await one<{ id: number }[]>(
      'sql',
      "SELECT id FROM keys WHERE provider = 'anthropic' ORDER BY id",
    )
    const [a, b, c, d, e, f] = rows.map((r) => r.id)
    const now = 50_000
    await run(
      ['blockKey', a, 'invalid_key', now - 10],
      ['blockKey', b, 'invalid_key', now - 10],
      ['setCooldown', c, 'claude-sonnet-4', now + 60, 'rate_limited'],
      // A key blocked while cooling counts once, as blocked.
      ['setCooldown', a, 'claude-sonnet-4', now + 60, 'rate_limited'],
      ['setCooldown', d, '*', now + 3600, 'out_of_credit'],
      // A cooldown that has ended (not swept yet) is not cooling.
      ['setCooldown', e, 'claude-sonnet-4', now - 1, 'rate_limited'],
    )
    expect(f).toBeDefined()
    const { usage } = await run(['samplePoolStates', now])
    // The database holds about 3,000 keys by now (openai, groq, anthropic). The sample reads their
    // pages and the few keys blocked or cooling (with their cooldowns' entries): about 50 rows, not
    // one per key. It writes one.
    expect(usage.rowsRead).toBeLessThan(100)
    expect(usage.rowsWritten).toBe(1)
    const samples = await one<
      Record<string, { at: number; total: number; cooling: number; blocked: number }[]>
    >('samplesSince', now)
    expect(samples.anthropic).toEqual([{ at: now, total: 300, cooling: 2, blocked: 2 }])
    // Deleting keys lowers the total at the next sample.
    await one('deleteKeys', [f, c])
    await one('samplePoolStates', now + 600)
    const later = await one<Record<string, unknown[]>>('samplesSince', now + 1)
    expect(later.anthropic).toEqual([{ at: now + 600, total: 298, cooling: 1, blocked: 2 }])
  })
})
