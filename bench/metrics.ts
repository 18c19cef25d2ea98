/**
 * What a Prometheus scrape costs in D1 (issue 26): one Worker with 1,000 Google keys (10 blocked, 20
 * cooling), traffic over 5 models flushed 40 times (what 4 busy isolates write in the 10 minutes
 * between two cron runs at the default 60 s flush), then a scrape before and after the cron folds
 * those rows into the running totals. D1's own rows_read of the scrape's statements, as the scrape
 * reports them (keyrelay_metrics_scrape_d1_rows_read).
 */
import { startWorker, type Harness } from '../test/harness'
import type { Record_ } from './isolates'
import { drive, fmt, sleep } from './lib'

const AUTH = 'bench-metrics-auth'
const MODELS = [
  'gemini-2.5-flash',
  'gemini-2.5-pro',
  'gemini-2.5-flash-lite',
  'gemini-2.0-flash',
  'gemma-3-27b-it',
]
const FLUSHES = 40
const OK = JSON.stringify({
  candidates: [{ content: { parts: [{ text: 'ok' }] }, finishReason: 'STOP' }],
  usageMetadata: { promptTokenCount: 6, candidatesTokenCount: 4, totalTokenCount: 10 },
})

async function scrapeRowsRead(h: Harness): Promise<number> {
  const res = await fetch(`${h.url}/admin/api/metrics?format=prometheus`, {
    headers: { authorization: `Bearer ${AUTH}` },
  })
  const text = await res.text()
  const line = /^keyrelay_metrics_scrape_d1_rows_read (\d+)/m.exec(text)
  if (res.status !== 200 || !line) throw new Error(`scrape: ${res.status} ${text.slice(0, 200)}`)
  return Number(line[1])
}

/** The D1 rows the isolate has read and written since it started (its own count, db/meter.ts). */
async function isolateD1(h: Harness): Promise<{ rowsRead: number; rowsWritten: number }> {
  const res = await fetch(`${h.url}/admin/api/metrics`, { headers: { authorization: `Bearer ${AUTH}` } })
  return ((await res.json()) as { d1: { rowsRead: number; rowsWritten: number } }).d1
}

export async function scrapeCost(record: Record_): Promise<void> {
  const h = await startWorker({
    deployedDefaults: true,
    authKey: AUTH,
    vars: { STATS_FLUSH_SECONDS: '1' },
    assets: false,
    upstream: {
      base: 'http://bench-gateway.test/v1/0123456789abcdef0123456789abcdef/bench',
      handle: async (r) => {
        await r.arrayBuffer()
        return new Response(OK, { headers: { 'content-type': 'application/json' } })
      },
    },
  })
  try {
    const keys = Array.from({ length: 1000 }, (_, i) => `AIzaSyMETRICS-${String(i).padStart(8, '0')}`)
    const ids = await h.addKeys('google-ai-studio', keys)
    const until = Math.floor(Date.now() / 1000) + 3600
    await h.d1.prepare(`UPDATE keys SET status = 'blocked' WHERE id IN (${ids.slice(0, 10).join(',')})`).run()
    await h.d1
      .prepare(
        `UPDATE keys SET cooldowns = json_object('gemini-2.5-pro', ?1), cooldown_next = ?1 WHERE id IN (${ids.slice(10, 30).join(',')})`,
      )
      .bind(until)
      .run()
    for (let flush = 0; flush < FLUSHES; flush++) {
      await drive(50, 8, async (i) => {
        const model = MODELS[i % MODELS.length] as string
        const res = await fetch(`${h.url}/api/google-ai-studio/v1beta/models/${model}:generateContent`, {
          method: 'POST',
          headers: { 'x-goog-api-key': AUTH, 'content-type': 'application/json' },
          body: '{"contents":[{"parts":[{"text":"hi"}]}]}',
        })
        await res.arrayBuffer()
      })
      await sleep(1100)
    }
    const batches = await h.d1.prepare('SELECT count(*) AS n FROM usage_batches').first<{ n: number }>()
    // What opening the dashboard's overview reads with these flushes (it sums them with json_each).
    const beforeOverview = await isolateD1(h)
    const overview = await fetch(`${h.url}/admin/api/overview`, {
      headers: { authorization: `Bearer ${AUTH}` },
    })
    await overview.arrayBuffer()
    const overviewRows = (await isolateD1(h)).rowsRead - beforeOverview.rowsRead
    const before = await scrapeRowsRead(h)
    // The hour is over, as it would be by the next cron run.
    await h.d1.prepare('UPDATE usage_batches SET hour = hour - 3600').run()
    // A run folds the rows into the totals; the next compacts what the run before folded.
    const d1Before = await isolateD1(h)
    await h.cron()
    await h.cron()
    const d1After = await isolateD1(h)
    const after = await scrapeRowsRead(h)
    const totals = await h.d1.prepare('SELECT count(*) AS n FROM metric_totals').first<{ n: number }>()
    record(
      `Prometheus scrape, 1,000 keys, 5 models: D1 rows read with ${batches?.n ?? '?'} flushes since the last cron run`,
      `${before}`,
    )
    record('  … right after a cron run folded them', `${after}`)
    // Between two cron runs the unfolded rows grow from none to all: a day costs about the mean.
    const perDay = (interval: number) => fmt((86_400 / interval) * ((before + after) / 2), 0)
    record(
      '  rows read a day scraping every 60 s (Prometheus’s default) / every 15 s',
      `${perDay(60)} / ${perDay(15)}`,
    )
    record('  the dashboard overview, same flushes: D1 rows read', `${overviewRows}`)
    record(
      '  the two cron runs that folded, then compacted them: D1 rows read / written (all their parts)',
      `${d1After.rowsRead - d1Before.rowsRead} / ${d1After.rowsWritten - d1Before.rowsWritten}`,
    )
    record(
      '  running-total rows (one per provider and model): written per cron run at most',
      `${totals?.n ?? '?'}`,
    )
  } finally {
    await h.dispose()
  }
}
