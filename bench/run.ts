/**
 * `pnpm bench`: keyrelay against a bare pass-through Worker, both in workerd (Miniflare) in front of
 * the same fixed-delay upstream, with a real local D1. Prints one markdown table (also written to
 * bench/results/), then a short summary of every target: its figure, met or not. Exits 1 when a
 * target is missed (`--no-fail` to explore); `pnpm bench cpu storm` runs only those scenarios.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { ProviderView } from '../worker/pool/view'
import { buildWorker, REPO_BUNDLE, ROOT } from '../test/build'
import { startWorker, type Harness } from '../test/harness'
import { startBare } from './bare'
import { BENCH_GATEWAY, benchGateway, type BenchGateway } from './gateway'
import { propagation, storm as isolateStorm, weighting } from './isolates'
import { quotaOvershoot } from './quotas'
import { conversationAffinity } from './affinity'
import { scrapeCost } from './metrics'
import { dashboardCost } from './dashboard'
import { pacing } from './pacing'
import { cpuPerRoute } from './cpu-routes'
import { call, drive, fmt, median, percentile, sleep } from './lib'

const AUTH = 'bench-auth-key'
const DELAY_MS = 10
const PATH = '/api/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent'
const BODY = JSON.stringify({ contents: [{ parts: [{ text: 'Hello' }] }] })
const init: RequestInit = {
  method: 'POST',
  headers: { 'x-goog-api-key': AUTH, 'content-type': 'application/json' },
  body: BODY,
}
const keys = (n: number, prefix = 'AIzaSyBENCH') =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(8, '0')}`)

interface Row {
  measure: string
  value: string
  baseline: string
  ratio: string
  target: string
  met: string
}
const rows: Row[] = []
function record(measure: string, value: string, baseline = '', ratio = '', target = '', met?: boolean): void {
  rows.push({ measure, value, baseline, ratio, target, met: met === undefined ? '' : met ? 'yes' : '**no**' })
}

const recordShort = (measure: string, value: string, target = '', met?: boolean) =>
  record(measure, value, '', '', target, met)

async function keyrelay(
  gw: BenchGateway,
  poolKeys: string[],
  vars: Record<string, string> = {},
): Promise<Harness> {
  const h = await startWorker({
    deployedDefaults: true,
    authKey: AUTH,
    upstream: { base: BENCH_GATEWAY, handle: gw.handle },
    vars,
  })
  await h.addKeys('google-ai-studio', poolKeys)
  return h
}

async function d1(h: Harness) {
  const res = await fetch(`${h.url}/admin/api/metrics`, { headers: { authorization: `Bearer ${AUTH}` } })
  return ((await res.json()) as { d1: { queries: number; rowsRead: number; rowsWritten: number } }).d1
}

async function overheadAndThroughput(): Promise<void> {
  console.log('Overhead and throughput')
  const gw = benchGateway(DELAY_MS)
  const kr = await keyrelay(gw, keys(10))
  const base = await startBare(gw)
  const kUrl = `${kr.url}${PATH}`
  const bUrl = `${base.url}${PATH}`
  await drive(200, 8, () => call(kUrl, init))
  await drive(200, 8, () => call(bUrl, init))
  // Interleaved runs, so drift on a shared machine hits both alike; each figure is the median of the
  // runs' ratios, with their spread.
  const ratios50: number[] = []
  const k: number[] = []
  const b: number[] = []
  for (let round = 0; round < 6; round++) {
    const bRun = await drive(100, 1, () => call(bUrl, init))
    const kRun = await drive(100, 1, () => call(kUrl, init))
    ratios50.push(median(kRun) / median(bRun))
    b.push(...bRun)
    k.push(...kRun)
  }
  const r50 = median(ratios50)
  record(
    'latency p50 (ms), sequential',
    fmt(median(k)),
    fmt(median(b)),
    `${fmt(r50)} (${spread(ratios50)})`,
    '≤ 1.05',
    r50 <= 1.05,
  )
  const r99 = percentile(k, 99) / percentile(b, 99)
  record('latency p99 (ms), sequential', fmt(percentile(k, 99)), fmt(percentile(b, 99)), fmt(r99))

  const rate = async (url: string) => {
    const n = 2000
    const t = performance.now()
    await drive(n, 32, () => call(url, init))
    return n / ((performance.now() - t) / 1000)
  }
  const rates: [number, number][] = []
  for (let round = 0; round < 4; round++) {
    const bRate = await rate(bUrl)
    const kRate = await rate(kUrl)
    rates.push([kRate, bRate])
  }
  const throughput = rates.map(([kRate, bRate]) => kRate / bRate)
  const rt = median(throughput)
  record(
    'throughput at concurrency 32 (req/s)',
    fmt(median(rates.map((r) => r[0])), 0),
    fmt(median(rates.map((r) => r[1])), 0),
    `${fmt(rt)} (${spread(throughput)})`,
    '≥ 0.95',
    rt >= 0.95,
  )
  await streaming(kr, base)
  await kr.dispose()
  await base.dispose()
}

async function streaming(kr: Harness, base: { url: string }): Promise<void> {
  console.log('Streaming')
  const path = '/api/google-ai-studio/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'
  const measure = async (url: string) => {
    const t = performance.now()
    const res = await fetch(url, init)
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    let ttfb = 0
    let reads = 0
    let text = ''
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (reads === 0) ttfb = performance.now() - t
      if (value.length > 0) reads++
      text += new TextDecoder().decode(value)
    }
    return { ttfb, reads, cut: text.includes('"error"') }
  }
  const k: { ttfb: number; reads: number; cut: boolean }[] = []
  const b: { ttfb: number; reads: number; cut: boolean }[] = []
  for (let i = 0; i < 30; i++) {
    b.push(await measure(`${base.url}${path}`))
    k.push(await measure(`${kr.url}${path}`))
  }
  const diff = median(k.map((x) => x.ttfb)) - median(b.map((x) => x.ttfb))
  record(
    'stream TTFB (ms), keyrelay − bare',
    fmt(diff),
    fmt(median(b.map((x) => x.ttfb))),
    '',
    '≤ 0.5 ms',
    diff <= 0.5,
  )
  // Not coalesced: at least one read per event sent 20 ms apart (a split read is harmless).
  const minReads = Math.min(...k.map((x) => x.reads))
  record('stream reads per 5 events sent 20 ms apart (min)', String(minReads), '5', '', '≥ 5', minReads >= 5)
  const flagged = k.filter((x) => x.cut).length
  record('complete streams flagged as cut', String(flagged), '', '', '0', flagged === 0)
}

async function d1Cost(): Promise<void> {
  console.log('D1 cost: 10,000 requests over 1,000 keys, stats on')
  const gw = benchGateway(2)
  const h = await keyrelay(gw, keys(1000))
  const start = await d1(h)
  await call(`${h.url}${PATH}`, init)
  const warm = await d1(h)
  const n = 10_000
  const t = performance.now()
  await drive(n - 1, 32, () => call(`${h.url}${PATH}`, init))
  const seconds = (performance.now() - t) / 1000
  await sleep(6500) // the last stats flush (STATS_FLUSH_SECONDS = 5)
  const end = await d1(h)
  const readAll = (end.rowsRead - start.rowsRead) / n
  const readSteady = (end.rowsRead - warm.rowsRead) / (n - 1)
  const written = (end.rowsWritten - start.rowsWritten) / n
  record('D1 rows read per request, all included', fmt(readAll, 4), '', '', '≤ 0.05', readAll <= 0.05)
  record(`  of which the isolate's one full pool load`, `${warm.rowsRead - start.rowsRead} rows`)
  record(
    'D1 rows read per request, warm isolate (refreshes included)',
    fmt(readSteady, 4),
    '',
    '',
    '≤ 0.05',
    readSteady <= 0.05,
  )
  record('D1 rows written per successful request', fmt(written, 4), '', '', '≤ 0.01', written <= 0.01)
  record('D1 queries per request', fmt((end.queries - start.queries) / n, 4))
  const spread = [...gw.perKey.values()]
  record(
    'keys used / load spread (min–max requests per key)',
    `${gw.perKey.size} / ${Math.min(...spread)}–${Math.max(...spread)}`,
  )
  void seconds
  await h.dispose()
}

async function poolScale(): Promise<void> {
  console.log('Pool scale')
  const p50: Record<number, number> = {}
  for (const size of [10, 1000, 10_000]) {
    const gw = benchGateway(DELAY_MS)
    const t = performance.now()
    const h = await keyrelay(gw, keys(size))
    const addMs = performance.now() - t
    await drive(100, 4, () => call(`${h.url}${PATH}`, init))
    p50[size] = median(await drive(400, 1, () => call(`${h.url}${PATH}`, init)))
    if (size === 10_000) {
      // The dashboard's keys table: sorted, searched pages of a 10,000-key pool.
      const admin = { headers: { authorization: `Bearer ${AUTH}` } }
      const list = (query: string) =>
        call(`${h.url}/admin/api/keys?provider=google-ai-studio&${query}`, admin)
      const before = await d1(h)
      await list('limit=50')
      const first = await d1(h)
      const pages = await drive(50, 1, (i) =>
        list(`limit=50&offset=${(i % 20) * 50}&sort=${i % 2 ? 'requests' : 'key'}&q=${i % 5 ? '' : '0042'}`),
      )
      const after = await d1(h)
      record('dashboard: a page of 10,000 keys, sorted or searched (ms p50)', fmt(median(pages)))
      record(
        'dashboard: D1 rows read by the first listing of an isolate',
        String(first.rowsRead - before.rowsRead),
      )
      record('dashboard: D1 rows read per later listing', fmt((after.rowsRead - first.rowsRead) / 50, 1))
      const stored = await h.d1.prepare('SELECT count(*) AS n FROM keys').first<{ n: number }>()
      record(
        'bulk add of 10,000 keys (s, incl. instance start)',
        fmt(addMs / 1000),
        '',
        '',
        '< 10 s',
        addMs < 10_000,
      )
      record('  keys stored', String(stored?.n), '', '', '10000', stored?.n === 10_000)
    }
    await h.dispose()
  }
  for (const size of [10, 1000, 10_000]) record(`latency p50 with ${size} keys (ms)`, fmt(p50[size] ?? NaN))
  const ratio = (p50[10_000] ?? NaN) / (p50[10] ?? NaN)
  record('latency ratio 10,000 / 10 keys', fmt(ratio), '', '', '≤ 1.10', ratio <= 1.1)

  for (const size of [10, 1000, 10_000]) {
    for (const cooling of [0, 0.9]) {
      const rows = keys(size).map((key, id) => ({
        id,
        provider: 'google-ai-studio' as const,
        key,
        status: 'active' as const,
        cooldowns: id < size * cooling ? '{"m":9999999999}' : '{}',
        seq: 1,
        keyGroup: null,
        weight: 1,
        tier: 0,
      }))
      const view = new ProviderView(rows, 1, 0)
      const picks = 100_000
      const t = performance.now()
      for (let i = 0; i < picks; i++) view.pick('m', 1000, new Set())
      record(
        `key selection, ${size} keys, ${cooling * 100}% cooling (µs per pick)`,
        fmt(((performance.now() - t) * 1000) / picks, 3),
      )
    }
  }
}

/**
 * Keys are sealed at rest (worker/db/vault.ts). A cold isolate loads the sealed pages and opens a key
 * only when it first uses it; this measures the most that can add: opening all 10,000 keys at once,
 * inside workerd (the load alone, then load and open; each call a fresh vault with nothing opened).
 */
async function encryptionCost(): Promise<void> {
  console.log('Keys at rest: sealed')
  const h = await startWorker({ scriptPath: REPO_BUNDLE, assets: false })
  const run = async (fn: string, ...args: unknown[]) => {
    const t = performance.now()
    const res = await h.fetch('/', { method: 'POST', body: JSON.stringify([{ fn, args }]) })
    if (res.status !== 200) throw new Error(`${fn}: ${res.status} ${await res.text()}`)
    await res.arrayBuffer()
    return performance.now() - t
  }
  const provider = 'google-ai-studio'
  await run('insertKeys', { provider, keys: keys(10_000, 'AIzaSySEAL'), remark: '', nowSeconds: 1 })
  const load: number[] = []
  const first: number[] = []
  const open: number[] = []
  for (let i = 0; i < 9; i++) {
    load.push(await run('loadProviderPool', provider))
    first.push(await run('openFirst', provider))
    open.push(await run('openAll', provider))
  }
  const added = Math.max(0, median(first) - median(load))
  record('cold pool load of 10,000 keys (ms, sealed pages)', fmt(median(load)))
  record(
    'what sealing adds to that cold load (ms: the one key its first request opens)',
    fmt(added),
    '',
    '',
    '< 100 ms',
    added < 100,
  )
  record('  for reference: opening all 10,000 keys at once (ms)', fmt(median(open) - median(load)))
  await h.dispose()
}

async function storm(): Promise<void> {
  console.log('429 storm: half of 20 keys rate-limited')
  const gw = benchGateway(DELAY_MS)
  const pool = keys(20)
  const h = await keyrelay(gw, pool, { STATS_FLUSH_SECONDS: '1' })
  pool.slice(0, 10).forEach((k) => gw.rateLimited.add(k))
  const before = await d1(h)
  const callsBefore = gw.calls
  const n = 1000
  await drive(n, 16, () => call(`${h.url}${PATH}`, init))
  await sleep(1500)
  const after = await d1(h)
  const upstream = gw.calls - callsBefore
  const limited = [...gw.rateLimited].reduce((s, k) => s + (gw.perKey.get(k) ?? 0), 0)
  record('extra upstream attempts per client request', fmt((upstream - n) / n, 4))
  record('429s answered by upstream (of 10 limited keys)', String(limited))
  record(
    'D1 rows written per 429 (cooldown + stats)',
    fmt((after.rowsWritten - before.rowsWritten) / Math.max(1, limited)),
  )
  await h.dispose()
}

function bundle(): void {
  console.log('Bundle')
  const out = mkdtempSync(join(tmpdir(), 'keyrelay-bundle-'))
  execFileSync('wrangler', ['deploy', '--dry-run', '--outdir', out], {
    cwd: ROOT,
    stdio: 'ignore',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  })
  const js = readFileSync(join(out, 'index.js'))
  record('Worker bundle (KiB), as wrangler deploys it', fmt(js.length / 1024, 1))
  const gz = gzipSync(js).length / 1024
  record('Worker bundle gzipped (KiB)', fmt(gz, 1), '', '', '≤ 45', gz <= 45)
  rmSync(out, { recursive: true, force: true })
}

/** The range of a set of figures, as `min–max`. */
const spread = (values: number[]) => `${fmt(Math.min(...values))}–${fmt(Math.max(...values))}`

/** What keyrelay's code costs on each route, as workerd CPU time beside the bare Worker's. */
async function cpu(): Promise<void> {
  console.log('CPU per request, per route')
  const goals: Record<string, number> = {
    native: 1.1,
    'compat-chat': 1.25,
    'compat-chat-stream': 1.25,
    'responses-stream': 1.25,
  }
  for (const r of await cpuPerRoute()) {
    const ratios = r.keyrelay.map((k, i) => k / (r.bare[i] as number))
    const ratio = median(ratios)
    const goal = goals[r.route] ?? 1.25
    record(
      `workerd CPU per request (µs), ${r.route}`,
      fmt(median(r.keyrelay), 0),
      fmt(median(r.bare), 0),
      `${fmt(ratio)} (${spread(ratios)})`,
      `≤ ${goal.toFixed(2)}`,
      ratio <= goal,
    )
  }
  record(
    '  one-balance on the native route',
    process.env.BENCH_PEER ? 'see bench/peer.md' : 'not measured: no build of it here',
  )
}

async function main(): Promise<void> {
  await buildWorker()
  await buildWorker(REPO_BUNDLE, `${ROOT}test/repo-worker.ts`)
  // `pnpm bench storm encryption` runs only those scenarios; no names runs them all.
  const noFail = process.argv.includes('--no-fail')
  const only = process.argv.slice(2).filter((a) => !a.startsWith('--'))
  const scenarios: [string, () => void | Promise<void>][] = [
    ['bundle', bundle],
    ['cpu', cpu],
    ['overhead', overheadAndThroughput],
    ['d1', d1Cost],
    ['scale', poolScale],
    ['encryption', encryptionCost],
    ['storm', storm],
    [
      'isolates',
      async () => {
        for (const warm of [false, true]) {
          await isolateStorm(recordShort, false, warm)
          await isolateStorm(recordShort, true, warm)
        }
        // Good keys with a limit of their own, as free-tier keys have: 1.2 times their even share.
        await isolateStorm(recordShort, false, true, 130)
      },
    ],
    ['propagation', () => propagation(recordShort)],
    ['weighting', () => weighting(recordShort)],
    ['quotas', () => quotaOvershoot(recordShort)],
    ['affinity', () => conversationAffinity(recordShort)],
    ['metrics', () => scrapeCost(recordShort)],
    ['pacing', () => pacing(recordShort)],
    [
      'dashboard',
      async () => {
        await dashboardCost(recordShort, 100)
        await dashboardCost(recordShort, 1000)
      },
    ],
  ]
  for (const [name, scenario] of scenarios) if (only.length === 0 || only.includes(name)) await scenario()
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, ${process.platform}`
  const table = [
    `# keyrelay benchmark, ${new Date().toISOString()}`,
    '',
    `Machine: ${machine}. Upstream delay ${DELAY_MS} ms. Baseline: a bare pass-through Worker in the same workerd.`,
    '',
    '| measure | keyrelay | baseline | ratio | target | met |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.measure} | ${r.value} | ${r.baseline} | ${r.ratio} | ${r.target} | ${r.met} |`),
    '',
  ].join('\n')
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true })
  const file = join(ROOT, 'bench/results', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.md`)
  writeFileSync(file, table)
  console.log(`\n${table}\nWritten to ${file}\n`)
  const targets = rows.filter((r) => r.target)
  const missed = targets.filter((r) => r.met !== 'yes')
  console.log(`Summary: ${targets.length - missed.length} of ${targets.length} targets met`)
  for (const r of targets) {
    const figure = r.ratio ? `${r.value} (ratio ${r.ratio})` : r.value
    console.log(`  ${r.met === 'yes' ? '✓' : '✗'} ${r.measure.trim()}: ${figure}, target ${r.target}`)
  }
  if (missed.length > 0 && !noFail) process.exitCode = 1
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (e: unknown) => {
    console.error(e)
    process.exit(1)
  },
)
