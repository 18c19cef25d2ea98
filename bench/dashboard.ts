/**
 * What an open dashboard costs in D1. The dashboard re-reads the page on screen every 10 s while its
 * tab is visible, so a page's refresh, not its first load, is what a day of an open tab multiplies.
 * The pool: KEYS Google keys each serving MODELS models every hour for a week, stored as the cron
 * leaves finished hours (one compacted row per 1,000 entries) plus the current hour's flushes from
 * ISOLATES busy isolates; rows written straight into D1 (key index included), as the flushes and the
 * cron would have.
 * D1's own rows_read, as the isolate meters it (db/meter.ts), and the workerd process's CPU time over a
 * page's first load (local D1 included; /proc counts in 10 ms ticks, so small figures read 0 or 10).
 */
import { startWorker, type Harness } from '../test/harness'
import { keyIndex, type UsageEntry } from '../worker/db/stats.repo'
import { cpuMicros, newWorkerd } from './cpu'
import type { Record_ } from './isolates'
import { fmt, sleep } from './lib'

const AUTH = 'bench-dashboard-auth'
const MODELS = ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.5-flash-lite']
const FLUSHES_THIS_HOUR = 30
const ENTRIES_PER_FLUSH = 50
const REFRESHES_PER_DAY = 86_400 / 10
const CPU_REFRESHES = 10
const CLIENTS = 20
/** Shorter than deployed (60 s), so that the bench sees client totals read again. */
const STATS_FLUSH_MS = 5_000
/** What the overview page asks besides /overview on each refresh (ui/js/overview.js). */
const OVERVIEW_CALLS = ['/limits?provider=google-ai-studio&projects=none', '/alerts']

async function rowsRead(h: Harness): Promise<number> {
  const res = await fetch(`${h.url}/admin/api/metrics`, { headers: { authorization: `Bearer ${AUTH}` } })
  return ((await res.json()) as { d1: { rowsRead: number } }).d1.rowsRead
}

async function get(h: Harness, path: string): Promise<void> {
  const res = await fetch(`${h.url}/admin/api${path}`, { headers: { authorization: `Bearer ${AUTH}` } })
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  await res.arrayBuffer()
}

/** Rows read by one call of each path, in order, and the workerd process's CPU time for them (µs). */
async function measured(h: Harness, pid: number, paths: string[]): Promise<{ rows: number; cpu: number }> {
  const before = await rowsRead(h)
  const cpuBefore = cpuMicros(pid)
  for (const p of paths) await get(h, p)
  const cpu = cpuMicros(pid) - cpuBefore
  return { rows: (await rowsRead(h)) - before, cpu }
}

const entry = (keyId: number, model: string, hour: number, requests: number) => [
  keyId,
  'google-ai-studio',
  model,
  requests,
  requests,
  0,
  0,
  hour + 1800,
  null,
  requests * 40,
  requests * 20,
  0,
]

/**
 * An hour's rows; `compacted`: with the per-provider totals the cron's compaction writes on the
 * hour's first row ('' on the others; schema.ts `totals`), a flush's rows have none.
 */
async function insertRows(h: Harness, hour: number, entries: unknown[][], compacted = false): Promise<void> {
  const totals: Record<string, number[]> = {}
  for (const e of entries) {
    const t = (totals[e[1] as string] ??= [0, 0, 0, 0, 0, 0, 0])
    ;[3, 4, 5, 6, 9, 10, 11].forEach((field, i) => (t[i] = (t[i] as number) + (e[field] as number)))
  }
  const statements = []
  for (let i = 0; i < entries.length; i += 1000) {
    const mark = compacted ? (i === 0 ? JSON.stringify(totals) : '') : null
    const chunk = entries.slice(i, i + 1000) as UsageEntry[]
    statements.push(
      h.d1
        .prepare('INSERT INTO usage_batches (hour, entries, totals, keys) VALUES (?1, ?2, ?3, ?4)')
        .bind(hour, JSON.stringify(chunk), mark, JSON.stringify(keyIndex(chunk))),
    )
  }
  await h.d1.batch(statements)
}

/** A week of finished hours, compacted, and the current hour's flushes so far. */
async function seed(h: Harness, ids: number[]): Promise<void> {
  const now = Math.floor(Date.now() / 1000)
  const current = now - (now % 3600)
  for (let back = 7 * 24; back >= 1; back--) {
    const hour = current - back * 3600
    await insertRows(
      h,
      hour,
      ids.flatMap((id) => MODELS.map((m) => entry(id, m, hour, 3))),
      true,
    )
  }
  for (let f = 0; f < FLUSHES_THIS_HOUR; f++) await flush(h, ids, f)
}

/** One isolate's flush of the current hour: ENTRIES_PER_FLUSH keys and models it used. */
async function flush(h: Harness, ids: number[], seed: number): Promise<void> {
  const now = Math.floor(Date.now() / 1000)
  const hour = now - (now % 3600)
  const entries = Array.from({ length: ENTRIES_PER_FLUSH }, (_, i) =>
    entry(ids[(seed * 37 + i * 7) % ids.length] as number, MODELS[i % MODELS.length] as string, hour, 1),
  )
  await insertRows(h, hour, entries)
}

export async function dashboardCost(record: Record_, keys: number): Promise<void> {
  const { value: h, pid } = await newWorkerd(() =>
    startWorker({
      deployedDefaults: true,
      authKey: AUTH,
      assets: false,
      vars: { STATS_FLUSH_SECONDS: String(STATS_FLUSH_MS / 1000) },
    }),
  )
  try {
    const ids = await h.addKeys(
      'google-ai-studio',
      Array.from({ length: keys }, (_, i) => `AIzaSyDASHBOARD-${String(i).padStart(8, '0')}`),
    )
    await seed(h, ids)
    // Client keys with traffic today: their rows are what the Clients page reads.
    for (let c = 0; c < CLIENTS; c++) await h.issueClient({ name: `team member ${c}` })
    // Today, the six days before and this month, for every client.
    const periods = [
      ...Array.from(
        { length: 7 },
        (_, d) => `d:${new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10)}`,
      ),
      `m:${new Date().toISOString().slice(0, 7)}`,
    ]
    for (const period of periods) {
      await h.d1
        .prepare(
          `INSERT INTO client_usage (client_id, period, requests, input_tokens, output_tokens, cached_tokens)
           SELECT id, ?1, 10, 100, 50, 0 FROM clients`,
        )
        .bind(period)
        .run()
    }
    const clientId = (await h.d1.prepare('SELECT min(id) AS id FROM clients').first<{ id: number }>())?.id
    const pages: [string, string[]][] = [
      ['overview, 24 h (with its quota-left and alerts calls)', ['/overview', ...OVERVIEW_CALLS]],
      ['overview, 7 days', ['/overview?range=7d', ...OVERVIEW_CALLS]],
      ['keys', ['/keys']],
      ['quota left today (the overview’s limits call alone)', [OVERVIEW_CALLS[0] as string]],
      ['a key’s detail (7 days)', [`/keys/${ids[0]}`]],
    ]
    const entries = keys * MODELS.length
    record(
      `Dashboard, ${keys} keys × ${MODELS.length} models every hour (${entries} entries an hour), ${FLUSHES_THIS_HOUR} flushes this hour`,
      '',
    )
    const cost = async (paths: string[]) => (await measured(h, pid, paths)).rows
    for (const [name, paths] of pages) {
      const { rows: first, cpu } = await measured(h, pid, paths)
      // The next refresh, 10 s later as the page does it, after one more isolate flushed.
      await flush(h, ids, 1000)
      await sleep(2100)
      // Several refreshes, for a CPU figure above /proc's 10 ms ticks.
      const refreshes = []
      for (let i = 0; i < CPU_REFRESHES; i++) refreshes.push(await measured(h, pid, paths))
      const refresh = (refreshes[0] as { rows: number }).rows
      const refreshCpu = refreshes.reduce((n, r) => n + r.cpu, 0) / CPU_REFRESHES
      record(
        `  ${name}: D1 rows read, first load / each refresh / a day open; workerd CPU, first load / a refresh`,
        `${first} / ${refresh} / ${fmt(refresh * REFRESHES_PER_DAY, 0)}; ${fmt(cpu / 1000, 0)} / ${fmt(refreshCpu / 1000, 0)} ms`,
      )
    }
    // Client totals are kept for a flush interval (5 s here, 60 s deployed): a refresh within it
    // reads what changed among the client keys; the first after it reads the totals again.
    const first = await cost(['/clients'])
    await sleep(2100)
    const cached = await cost(['/clients'])
    await sleep(STATS_FLUSH_MS)
    const reread = await cost(['/clients'])
    const detail = await cost([`/clients/${clientId}`])
    record(`  a client's detail (7 days), after the Clients page: D1 rows read`, `${detail}`)
    record(
      `  clients (${CLIENTS} client keys): D1 rows read, first load / a refresh / one a flush interval / a day open (60 s flushes)`,
      `${first} / ${cached} / ${reread} / ${fmt(cached * REFRESHES_PER_DAY + (reread - cached) * (86_400 / 60), 0)}`,
    )
  } finally {
    await h.dispose()
  }
}
