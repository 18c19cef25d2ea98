/**
 * A conversation on one key across isolates (issue 26): 8 isolates on one D1, 40 Google keys, 200
 * conversations of 10 requests each sent at concurrency 16, every request to an isolate at random.
 * After a third of the requests, 4 keys (10 %) turn rate-limited for good. Figures: the share of
 * requests that reached their conversation's first key while that key could still serve, the share
 * that stayed on the key of the conversation's previous request, and how even the pool's traffic is.
 */
import { googleMinute429 } from '../test/gateway/fixtures'
import type { Harness } from '../test/harness'
import type { Record_ } from './isolates'
import { fleet, FLEET_AUTH } from './fleet'
import { drive, fmt } from './lib'

const PATH = '/api/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent'
const OK = JSON.stringify({ candidates: [{ content: { parts: [{ text: 'ok' }] }, finishReason: 'STOP' }] })
const CONVERSATIONS = 200
const TURNS = 10

export async function conversationAffinity(record: Record_): Promise<void> {
  const keys = Array.from({ length: 40 }, (_, i) => `AIzaSyAFFINITY-${String(i).padStart(8, '0')}`)
  const bad = new Set<string>()
  /** conversation → the key of each of its requests that was served, in order. */
  const served = new Map<string, string[]>()
  const all = await fleet(8, keys, async (r) => {
    await r.arrayBuffer()
    const key = r.headers.get('x-goog-api-key') ?? ''
    const json = (status: number, body: string) =>
      new Response(body, { status, headers: { 'content-type': 'application/json' } })
    if (bad.has(key)) return json(429, googleMinute429)
    const conversation = r.headers.get('x-session-id') ?? ''
    served.set(conversation, [...(served.get(conversation) ?? []), key])
    return json(200, OK)
  })
  try {
    // Turn by turn, each conversation's next request only after its previous one was answered.
    const order = Array.from({ length: TURNS }, (_, turn) =>
      Array.from({ length: CONVERSATIONS }, (_, c) => ({ turn, c })),
    ).flat()
    const firstKeys = new Map<string, string>()
    let failures = 0
    let turnedBad = false
    let done = 0
    let reachedFirst = 0
    let firstCouldServe = 0
    await drive(order.length, 16, async (i) => {
      const { c } = order[i] as { c: number }
      if (!turnedBad && done >= order.length / 3) {
        turnedBad = true
        for (const k of keys.slice(0, 4)) bad.add(k)
      }
      const id = `conversation-${c}`
      const h = all[Math.floor(Math.random() * all.length)] as Harness
      const res = await fetch(`${h.url}${PATH}`, {
        method: 'POST',
        headers: { 'x-goog-api-key': FLEET_AUTH, 'x-session-id': id, 'content-type': 'application/json' },
        body: '{"contents":[{"parts":[{"text":"hi"}]}]}',
      })
      await res.arrayBuffer()
      done++
      if (res.status !== 200) return void failures++
      const key = served.get(id)?.at(-1) as string
      const first = firstKeys.get(id) ?? key
      firstKeys.set(id, first)
      if (!bad.has(first)) {
        firstCouldServe++
        if (key === first) reachedFirst++
      }
    })
    let stayed = 0
    let transitions = 0
    for (const list of served.values())
      for (let i = 1; i < list.length; i++) {
        transitions++
        if (list[i] === list[i - 1]) stayed++
      }
    const requests = new Map<string, number>()
    for (const list of served.values()) for (const k of list) requests.set(k, (requests.get(k) ?? 0) + 1)
    const good = keys.filter((k) => !bad.has(k)).map((k) => requests.get(k) ?? 0)
    const mean = good.reduce((a, b) => a + b, 0) / good.length
    record(
      'conversations, 8 isolates, 10 % of keys turning bad: requests on their first key while it could serve',
      `${fmt((reachedFirst / firstCouldServe) * 100, 1)} % (${failures} failures)`,
      '≥ 95 %',
      reachedFirst / firstCouldServe >= 0.95 && failures === 0,
    )
    record(
      '  requests on the same key as their conversation’s previous one',
      `${fmt((stayed / transitions) * 100, 1)} %`,
    )
    // Conversations land on keys as a hash places them: as even as random placement, whose spread
    // (Poisson: the square root of the mean) is printed beside the measured one.
    const held = new Map<string, number>()
    for (const k of firstKeys.values()) held.set(k, (held.get(k) ?? 0) + 1)
    const counts = keys.map((k) => held.get(k) ?? 0)
    const perKey = CONVERSATIONS / keys.length
    const sd = Math.sqrt(counts.reduce((t, n) => t + (n - perKey) ** 2, 0) / counts.length)
    record(
      '  requests per good key: busiest / mean / quietest',
      `${Math.max(...good)} / ${fmt(mean, 1)} / ${Math.min(...good)}`,
    )
    record(
      '  conversations per key: mean, spread (random placement would spread √mean)',
      `${fmt(perKey, 1)}, ${fmt(sd, 2)} (√mean ${fmt(Math.sqrt(perKey), 2)})`,
    )
  } finally {
    await Promise.all(all.map((h) => h.dispose()))
  }
}
