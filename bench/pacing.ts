/**
 * Google free-tier keys under steady traffic (issue 25): 8 isolates on one D1, 20 keys of their own
 * projects, each with Google's per-minute limit (10 requests in any 60 s, as gemini-2.5-flash's free
 * tier) and a per-day one (5 of them have only 8 requests left today, the rest far more). Requests
 * arrive at a steady 2 a second, each at an isolate at random, for 150 s: 80 % of what the 15 keys
 * with a day left can serve in a minute. Google sends no rate-limit headers, so every limit keyrelay
 * meets is a 429; the figure is the 429s per request served (a 429 costs the client nothing, but it is
 * an attempt and a round trip wasted), split into per-minute and per-day ones.
 *
 * Run twice: once as if keyrelay had not counted those projects' day (each is found out by its 429,
 * as before the day tally), and once as it has when it served them since midnight: the day tally
 * (pool/day-tally.ts) holds 242 of gemini-2.5-flash's 250 for each, so it knows 8 are left and passes
 * over a project that has used them before Google refuses it.
 */
import { googleDaily429, googleMinute429 } from '../test/gateway/fixtures'
import type { Harness } from '../test/harness'
import { entryName } from '../worker/db/day-tally.repo'
import { dayOf } from '../worker/pool/day-tally'
import { GOOGLE_FREE_TIER } from '../worker/providers/google-limits'
import { fleet, FLEET_AUTH } from './fleet'
import type { Record_ } from './isolates'
import { fmt, sleep } from './lib'

const MODEL = 'gemini-2.5-flash'
const PATH = `/api/google-ai-studio/v1beta/models/${MODEL}:generateContent`
const OK = JSON.stringify({ candidates: [{ content: { parts: [{ text: 'ok' }] }, finishReason: 'STOP' }] })
const PER_MINUTE = 10
const SHORT_DAY = 8
const KEYS = 20
const SHORT_DAY_KEYS = 5
const RATE_PER_S = 2
const SECONDS = Number(process.env.PACING_SECONDS ?? 150)

const json = (status: number, body: string) =>
  new Response(body, { status, headers: { 'content-type': 'application/json' } })

/** The per-minute 429 with the retry delay Google would give: until the oldest call leaves the window. */
const minute429 = (seconds: number) =>
  json(
    429,
    JSON.stringify(JSON.parse(googleMinute429), (k, v: unknown) => (k === 'retryDelay' ? `${seconds}s` : v)),
  )

export async function pacing(record: Record_): Promise<void> {
  await pacingRun(record, false)
  await pacingRun(record, true)
}

async function pacingRun(record: Record_, counted: boolean): Promise<void> {
  const keys = Array.from({ length: KEYS }, (_, i) => `AIzaSyPACING-${String(i).padStart(8, '0')}`)
  const shortDay = new Set(keys.slice(0, SHORT_DAY_KEYS))
  /** key → times (ms) of the calls it served in the last minute. */
  const served = new Map<string, number[]>()
  const dayServed = new Map<string, number>()
  let minute429s = 0
  let day429s = 0
  const all: Harness[] = await fleet(8, [], async (r) => {
    await r.arrayBuffer()
    const key = r.headers.get('x-goog-api-key') ?? ''
    const now = performance.now()
    const times = (served.get(key) ?? []).filter((t) => t > now - 60_000)
    served.set(key, times)
    if (shortDay.has(key) && (dayServed.get(key) ?? 0) >= SHORT_DAY) {
      day429s++
      return json(429, googleDaily429)
    }
    if (times.length >= PER_MINUTE) {
      minute429s++
      return minute429(Math.max(1, Math.ceil(((times[0] as number) + 60_000 - now) / 1000)))
    }
    times.push(now)
    dayServed.set(key, (dayServed.get(key) ?? 0) + 1)
    return json(200, OK)
  })
  try {
    await addKeys(all[0] as Harness, keys, counted ? shortDay : new Set())
    const d1Before = await d1Of(all)
    const total = SECONDS * RATE_PER_S
    let ok = 0
    let failed = 0
    const inFlight: Promise<void>[] = []
    const start = performance.now()
    for (let i = 0; i < total; i++) {
      // Open loop: a request every 500 ms whatever the answers take, as independent clients send.
      const due = start + (i * 1000) / RATE_PER_S
      await sleep(Math.max(0, due - performance.now()))
      const h = all[Math.floor(Math.random() * all.length)] as Harness
      inFlight.push(
        fetch(`${h.url}${PATH}`, {
          method: 'POST',
          headers: { 'x-goog-api-key': FLEET_AUTH, 'content-type': 'application/json' },
          body: '{"contents":[{"parts":[{"text":"hi"}]}]}',
        }).then(async (res) => {
          await res.arrayBuffer()
          if (res.status === 200) ok++
          else failed++
        }),
      )
    }
    await Promise.all(inFlight)
    await sleep(25_000) // the isolates' trailing flushes: what a day of traffic writes
    const d1After = await d1Of(all)
    const wasted = (minute429s + day429s) / Math.max(1, ok)
    record(
      `Google free tier, 8 isolates, ${KEYS} keys at 10/min (${SHORT_DAY_KEYS} with ${SHORT_DAY} left today, ${counted ? 'their day counted' : 'their day not counted'}), 2 req/s for ${SECONDS} s: 429s per request served`,
      `${fmt(wasted, 3)} (${ok} served, ${failed} failed)`,
      counted ? '< 0.01' : '',
      !counted || (wasted < 0.01 && failed === 0),
    )
    record('  per-minute 429s / per-day 429s', `${minute429s} / ${day429s}`)
    record(
      '  per-day 429s per key that ran out (the first is the proof; more are isolates racing)',
      fmt(day429s / SHORT_DAY_KEYS, 2),
    )
    record(
      '  D1 rows read / written per request (every isolate, flushes included)',
      `${fmt((d1After.rowsRead - d1Before.rowsRead) / Math.max(1, ok), 3)} / ${fmt((d1After.rowsWritten - d1Before.rowsWritten) / Math.max(1, ok), 3)}`,
    )
  } finally {
    await Promise.all(all.map((h) => h.dispose()))
  }
}

/**
 * The keys, through the admin API; for those in `counted`, the day so far as keyrelay would have
 * counted it serving them since midnight (all but SHORT_DAY of the table's figure).
 */
async function addKeys(h: Harness, keys: string[], counted: Set<string>): Promise<void> {
  const res = await h.fetch('/admin/api/keys', {
    method: 'POST',
    headers: { authorization: `Bearer ${FLEET_AUTH}`, 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'google-ai-studio', keys }),
  })
  if (!res.ok) throw new Error(`adding keys: ${res.status} ${await res.text()}`)
  const { ids } = (await res.json()) as { ids: number[] }
  const figure = GOOGLE_FREE_TIER.models[MODEL]?.requestsPerDay ?? 0
  const day = Object.fromEntries(
    keys.flatMap((k, i) =>
      counted.has(k) ? [[entryName(MODEL, ids[i] as number), figure - SHORT_DAY]] : [],
    ),
  )
  await h.d1
    .prepare('INSERT INTO day_tally (provider, day, counts) VALUES (?1, ?2, ?3)')
    .bind('google-ai-studio', dayOf(GOOGLE_FREE_TIER, Date.now()), JSON.stringify(day))
    .run()
}

/** Every isolate's D1 use since it started, as its metrics report it. */
async function d1Of(all: Harness[]): Promise<{ rowsRead: number; rowsWritten: number }> {
  const each = await Promise.all(
    all.map(async (h) => {
      const res = await h.fetch('/admin/api/metrics', { headers: { authorization: `Bearer ${FLEET_AUTH}` } })
      return ((await res.json()) as { d1: { rowsRead: number; rowsWritten: number } }).d1
    }),
  )
  return each.reduce((a, b) => ({
    rowsRead: a.rowsRead + b.rowsRead,
    rowsWritten: a.rowsWritten + b.rowsWritten,
  }))
}
