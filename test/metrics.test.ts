import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { defaultReply } from './gateway/defaults'
import { replies } from './gateway/replies'
import { AUTH_KEY, startWorker, type Harness } from './harness'
import { adminHeaders, errorCode, GEMINI_PATH, googleInit, googleKey } from './helpers'
import { parsePrometheus, type ParsedSample } from './prometheus-parse'

const METRICS_TOKEN = 'kr-test-metrics-token-7c1e5a9d'
const started: Harness[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map((h) => h.dispose()))
})
async function worker(options: Parameters<typeof startWorker>[0] = {}): Promise<Harness> {
  const h = await startWorker({ ...options, vars: { STATS_FLUSH_SECONDS: '1', ...options.vars } })
  started.push(h)
  return h
}
/**
 * Waits until the scrape counts `n` requests in all: each isolate flushes within its trailing timer
 * (a second here, or two when the last one was armed just before), so a fixed wait would be a race.
 */
async function counted(h: Harness, n: number): Promise<void> {
  const requests = async () =>
    (await scrape(h)).samples
      .filter((s) => s.name === 'keyrelay_requests_total')
      .reduce((sum, s) => sum + s.value, 0)
  await expect.poll(requests, { timeout: 10_000, interval: 250 }).toBe(n)
}

async function scrape(
  h: Harness,
  auth = `Bearer ${AUTH_KEY}`,
): Promise<{ text: string; samples: ParsedSample[] }> {
  const res = await h.fetch('/admin/api/metrics?format=prometheus', { headers: { authorization: auth } })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
  const text = await res.text()
  return { text, samples: parsePrometheus(text) }
}

/** The value of the one sample of `name` whose labels include `labels` (0 when there is none). */
function value(samples: ParsedSample[], name: string, labels: Record<string, string>): number {
  const hits = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )
  expect(hits.length).toBeLessThanOrEqual(1)
  return hits[0]?.value ?? 0
}

const FLASH = { provider: 'google-ai-studio', model: 'gemini-2.5-flash' }

/** Every counter of the scrape, by name and labels: what must never go down. */
function counters(samples: ParsedSample[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const s of samples) {
    if (s.type === 'counter' || s.type === 'histogram')
      out.set(`${s.name}${JSON.stringify(s.labels)}`, s.value)
  }
  return out
}

test('requests, attempts, 429s, blocks, tokens, latency and pool state, parsed by a Prometheus parser', async () => {
  const h = await worker()
  const [good, limited, dead] = [googleKey(1), googleKey(2), googleKey(3)]
  await h.addKeys('google-ai-studio', [good, limited, dead])
  // Google meters quota per model: for a model it does not have, the limited project answers 404
  // like any other (a 429 there would prove the invented name, and whether the pick meets this key
  // first is chance).
  h.gateway
    .on(limited, (req) =>
      req.path.includes(':generateContent') && !req.path.includes('gemini-2.5-flash')
        ? defaultReply(req, '')
        : replies.googleMinute429(),
    )
    .on(dead, () => replies.googleInvalidKey())
  for (let i = 0; i < 6; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  // A caller's own mistake: the provider's 404 for a model it does not have, relayed.
  const unknown = GEMINI_PATH.replace('gemini-2.5-flash', 'gemini-0-nonexistent')
  expect((await h.fetch(unknown, googleInit())).status).toBe(404)
  await counted(h, 7)

  const { text, samples } = await scrape(h)
  expect(value(samples, 'keyrelay_requests_total', { ...FLASH, outcome: 'ok' })).toBe(6)
  expect(value(samples, 'keyrelay_requests_total', { ...FLASH, outcome: 'client_error' })).toBe(0)
  expect(value(samples, 'keyrelay_upstream_attempts_total', { ...FLASH, outcome: 'success' })).toBe(6)
  expect(value(samples, 'keyrelay_upstream_attempts_total', { ...FLASH, outcome: 'rate_limited' })).toBe(1)
  expect(value(samples, 'keyrelay_upstream_attempts_total', { ...FLASH, outcome: 'error' })).toBe(1)
  expect(value(samples, 'keyrelay_key_blocks_total', FLASH)).toBe(1)
  // The stand-in reports 4 input and 4 output tokens per answer.
  expect(value(samples, 'keyrelay_tokens_total', { ...FLASH, type: 'input' })).toBe(24)
  expect(value(samples, 'keyrelay_tokens_total', { ...FLASH, type: 'output' })).toBe(24)
  // The unproven model's 404 is counted, under the name every unproven model shares.
  const other = { provider: 'google-ai-studio', model: '(other)' }
  expect(value(samples, 'keyrelay_requests_total', { ...other, outcome: 'client_error' })).toBe(1)

  expect(samples.find((s) => s.name === 'keyrelay_request_duration_seconds_count')?.type).toBe('histogram')
  expect(value(samples, 'keyrelay_request_duration_seconds_count', FLASH)).toBe(6)
  const buckets = samples
    .filter((s) => s.name === 'keyrelay_request_duration_seconds_bucket' && s.labels.model === FLASH.model)
    .map((s) => [s.labels.le, s.value] as const)
  expect(buckets).toHaveLength(11)
  expect(buckets.at(-1)).toEqual(['+Inf', 6])
  // Cumulative: each bucket holds at least what the one below it holds.
  for (let i = 1; i < buckets.length; i++) expect(buckets[i]![1]).toBeGreaterThanOrEqual(buckets[i - 1]![1])
  expect(value(samples, 'keyrelay_request_duration_seconds_sum', FLASH)).toBeGreaterThan(0)

  expect(value(samples, 'keyrelay_keys', { provider: 'google-ai-studio', state: 'active' })).toBe(2)
  expect(value(samples, 'keyrelay_keys', { provider: 'google-ai-studio', state: 'blocked' })).toBe(1)
  expect(value(samples, 'keyrelay_keys_cooling', FLASH)).toBe(1)
  expect(value(samples, 'keyrelay_metrics_scrape_d1_rows_read', {})).toBeGreaterThan(0)
  // Every series the documented Grafana dashboard queries is one the endpoint serves.
  const served = new Set(samples.map((s) => s.name))
  const dashboard = readFileSync(join(__dirname, '../docs/grafana/keyrelay.json'), 'utf8')
  const queried = new Set(dashboard.match(/keyrelay_[a-z_]+/g))
  expect(queried.size).toBeGreaterThan(5)
  for (const name of queried) expect(served, name).toContain(name)
  // No per-key series unless the operator turns them on, and no secret anywhere.
  expect(samples.some((s) => s.name.startsWith('keyrelay_key_attempts'))).toBe(false)
  for (const secret of [good, limited, dead, AUTH_KEY]) expect(text).not.toContain(secret)
})

test('counters never go down: the cron folds counts into totals before it prunes or compacts them', async () => {
  const h = await worker({ vars: { STATS_RETENTION_DAYS: '1' } })
  await h.addKeys('google-ai-studio', [googleKey(1)])
  for (let i = 0; i < 3; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  await counted(h, 3)
  const hour = (secondsAgo: number) => {
    const at = Math.floor(Date.now() / 1000) - secondsAgo
    return at - (at % 3600)
  }
  // Rows the way isolates flush them: two for a finished hour (compacted by the cron) and one from
  // 40 days ago (pruned by it); the request entries' 19 fields are provider, model and 17 counts.
  const entry = (n: number) => [1, FLASH.provider, FLASH.model, n, n, 0, 0, 0, null, n, n, 0]
  const requests = (n: number) => [
    [FLASH.provider, FLASH.model, n, 0, 0, 0, 0, 100 * n, n, ...Array(10).fill(0)],
  ]
  const insert = (at: number, n: number) =>
    h.d1
      .prepare('INSERT INTO usage_batches (hour, entries, requests) VALUES (?1, ?2, ?3)')
      .bind(at, JSON.stringify([entry(n)]), JSON.stringify(requests(n)))
      .run()
  await insert(hour(7200), 2)
  await insert(hour(7200), 5)
  await insert(hour(40 * 86_400), 11)

  const before = counters((await scrape(h)).samples)
  expect(value((await scrape(h)).samples, 'keyrelay_requests_total', { ...FLASH, outcome: 'ok' })).toBe(21)
  // The first run folds the rows; compaction takes them on the next (health/scheduled.ts).
  await h.cron()
  await h.cron()
  const rows = async (at: number) =>
    (
      await h.d1
        .prepare('SELECT count(*) AS n FROM usage_batches WHERE hour = ?1')
        .bind(at)
        .first<{ n: number }>()
    )?.n
  expect(await rows(hour(40 * 86_400))).toBe(0)
  expect(await rows(hour(7200))).toBe(1)
  expect(counters((await scrape(h)).samples)).toEqual(before)

  // A late flush for the compacted hour, then more traffic: counted once each, through more cron runs.
  await insert(hour(7200), 7)
  for (let i = 0; i < 2; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  await counted(h, 30)
  const later = counters((await scrape(h)).samples)
  // Two runs at once (a slow run overlapping the next): each row is still folded once.
  await Promise.all([h.cron(), h.cron()])
  await h.cron()
  expect(await rows(hour(7200))).toBe(1)
  const after = counters((await scrape(h)).samples)
  expect(after).toEqual(later)
  expect(value((await scrape(h)).samples, 'keyrelay_requests_total', { ...FLASH, outcome: 'ok' })).toBe(30)
  for (const [id, v] of before) expect(after.get(id), id).toBeGreaterThanOrEqual(v)
})

test('what one isolate flushed, another scrapes: the figures come from D1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyrelay-metrics-'))
  const a = await worker({ d1Persist: dir })
  const b = await worker({ d1Persist: dir, applyMigrations: false })
  await a.addKeys('google-ai-studio', [googleKey(1)])
  for (let i = 0; i < 4; i++) expect((await a.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  for (let i = 0; i < 3; i++) expect((await b.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  await counted(a, 7)
  for (const h of [a, b]) {
    const { samples } = await scrape(h)
    expect(value(samples, 'keyrelay_requests_total', { ...FLASH, outcome: 'ok' })).toBe(7)
  }
})

test('METRICS_TOKEN opens the metrics and nothing else', async () => {
  const h = await worker({ vars: { METRICS_TOKEN } })
  await scrape(h, `Bearer ${METRICS_TOKEN}`)
  const keys = await h.fetch('/admin/api/keys', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  expect(keys.status).toBe(401)
  const wrong = await h.fetch('/admin/api/metrics?format=prometheus', {
    headers: { authorization: `Bearer ${METRICS_TOKEN}x` },
  })
  expect(wrong.status).toBe(401)
  expect(await wrong.text()).not.toContain(METRICS_TOKEN)
  expect((await h.fetch('/admin/api/metrics?format=prometheus')).status).toBe(401)
  const bad = await h.fetch('/admin/api/metrics?format=xml', { headers: adminHeaders() })
  expect(bad.status).toBe(400)
  expect(await errorCode(bad)).toBe('invalid_format')
})

test('METRICS_PER_KEY=on adds each key’s attempts and tokens, before and after the cron folds them', async () => {
  const h = await worker({ vars: { METRICS_PER_KEY: 'on' } })
  const [a, b] = [googleKey(1), googleKey(2)]
  const [idA, idB] = await h.addKeys('google-ai-studio', [a, b])
  h.gateway.on(b, () => replies.googleMinute429())
  for (let i = 0; i < 3; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  await counted(h, 3)
  const check = async () => {
    const { samples } = await scrape(h)
    const key = (id: number | undefined, outcome: string) =>
      value(samples, 'keyrelay_key_attempts_total', { key_id: String(id), outcome })
    expect(key(idA, 'success')).toBe(3)
    expect(key(idB, 'rate_limited')).toBe(1)
    expect(value(samples, 'keyrelay_key_tokens_total', { key_id: String(idA), type: 'output' })).toBe(12)
  }
  await check()
  await h.cron()
  await check()
})
