/**
 * Google free-tier keys under steady traffic (issue 25): 8 isolates on one D1, 20 keys of their own
 * projects, each with Google's per-minute limit (10 requests in any 60 s, as gemini-2.5-flash's free
 * tier) and a per-day one (5 of them have only 8 requests left today, the rest far more). Requests
 * arrive at a steady 2 a second, each at an isolate at random, for 150 s: 80 % of what the 15 keys
 * with a day left can serve in a minute. Google sends no rate-limit headers, so every limit keyrelay
 * meets is a 429; the figure is the 429s per request served (a 429 costs the client nothing, but it is
 * an attempt and a round trip wasted), split into per-minute and per-day ones.
 *
 * Run twice: with the short days' figures unknown to keyrelay (each of those projects is found out
 * by its 429, as before the day tally), and known (each short-day key in a key group of its own with
 * its figure set to 8 in the limits, as an operator sets what AI Studio shows; the other keys keep
 * the table's 250, which this run does not reach). Then pool/day-tally.ts passes over a project that
 * has used its day before Google refuses it.
 */
import { googleDaily429, googleMinute429 } from '../test/gateway/fixtures'
import type { Harness } from '../test/harness'
import { fleet, FLEET_AUTH } from './fleet'
import type { Record_ } from './isolates'
import { fmt, sleep } from './lib'

const PATH = '/api/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent'
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

async function pacingRun(record: Record_, figuresKnown: boolean): Promise<void> {
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
    await addKeys(all[0] as Harness, keys, figuresKnown ? shortDay : new Set())
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
    const wasted = (minute429s + day429s) / Math.max(1, ok)
    record(
      `Google free tier, 8 isolates, ${KEYS} keys at 10/min (${SHORT_DAY_KEYS} with ${SHORT_DAY} left today, ${figuresKnown ? 'figures known' : 'figures unknown'}), 2 req/s for ${SECONDS} s: 429s per request served`,
      `${fmt(wasted, 3)} (${ok} served, ${failed} failed)`,
      figuresKnown ? '< 0.01' : '',
      !figuresKnown || (wasted < 0.01 && failed === 0),
    )
    record('  per-minute 429s / per-day 429s', `${minute429s} / ${day429s}`)
    record(
      '  per-day 429s per key that ran out (the first is the proof; more are isolates racing)',
      fmt(day429s / SHORT_DAY_KEYS, 2),
    )
  } finally {
    await Promise.all(all.map((h) => h.dispose()))
  }
}

/** The keys, through the admin API; those in `ownFigure` each in a group of its own, its day's figure set. */
async function addKeys(h: Harness, keys: string[], ownFigure: Set<string>): Promise<void> {
  const admin = async (method: string, path: string, body: unknown) => {
    const res = await h.fetch(`/admin/api${path}`, {
      method,
      headers: { authorization: `Bearer ${FLEET_AUTH}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  }
  await admin('POST', '/keys', { provider: 'google-ai-studio', keys: keys.filter((k) => !ownFigure.has(k)) })
  let i = 0
  for (const key of ownFigure) {
    const group = `short-${i++}`
    await admin('POST', '/keys', { provider: 'google-ai-studio', keys: [key], group })
    await admin('PUT', '/limits', {
      provider: 'google-ai-studio',
      model: 'gemini-2.5-flash',
      group,
      requestsPerDay: SHORT_DAY,
    })
  }
}
