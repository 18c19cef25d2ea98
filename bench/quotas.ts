/**
 * Client key quotas across isolates (issue 25): 8 Worker instances on one local D1, as Cloudflare
 * runs many isolates of one Worker, each counting a client's requests and tokens in memory. One client
 * with a daily quota sends 1.5 times its quota at concurrency 32 spread over the isolates; the figure
 * is how many requests were served past the quota, and the D1 rows written per served request.
 */
import type { Harness } from '../test/harness'
import { fleet, FLEET_AUTH as AUTH } from './fleet'
import type { Record_ } from './isolates'
import { drive, fmt } from './lib'

const PATH = '/api/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent'
const ISOLATES = 8
/** Tokens each answer reports (usageMetadata): 6 in, 4 out. */
const TOKENS_PER_ANSWER = 10
const ANSWER = JSON.stringify({
  candidates: [{ content: { parts: [{ text: 'ok' }] }, finishReason: 'STOP' }],
  usageMetadata: { promptTokenCount: 6, candidatesTokenCount: 4, totalTokenCount: 10 },
})

const isolates = () =>
  fleet(
    ISOLATES,
    Array.from({ length: 50 }, (_, i) => `AIzaSyQUOTA-${String(i).padStart(8, '0')}`),
    async (r) => {
      await r.arrayBuffer()
      return new Response(ANSWER, { headers: { 'content-type': 'application/json' } })
    },
  )

async function rowsWritten(all: Harness[]): Promise<number> {
  let written = 0
  for (const h of all) {
    const res = await fetch(`${h.url}/admin/api/metrics`, { headers: { authorization: `Bearer ${AUTH}` } })
    const body = (await res.json()) as { d1?: { rowsWritten: number } }
    if (!body.d1) throw new Error(`metrics: ${res.status} ${JSON.stringify(body)}`)
    written += body.d1.rowsWritten
  }
  return written
}

/** Sends 1.5 × the quota's requests as one client; answers how many were served, and D1 rows written. */
async function spend(all: Harness[], quotas: Record<string, number>, requests: number) {
  const client = await (all[0] as Harness).issueClient({ name: 'bench', quotas })
  const init = {
    method: 'POST',
    headers: { 'x-goog-api-key': client.key, 'content-type': 'application/json' },
    body: '{"contents":[{"parts":[{"text":"hi"}]}]}',
  }
  const before = await rowsWritten(all)
  let served = 0
  let refused = 0
  let other = 0
  const codes = new Map<string, number>()
  await drive(requests, 32, async (i) => {
    const res = await fetch(`${(all[i % all.length] as Harness).url}${PATH}`, init)
    const text = await res.text()
    if (res.status === 200) return void served++
    const code = `${res.status} ${/"code":"(\w+)"/.exec(text)?.[1] ?? ''}`
    codes.set(code, (codes.get(code) ?? 0) + 1)
    if (code === '429 quota_requests_per_day' || code === '429 quota_tokens_per_day') refused++
    else other++
  })
  if (other > 0) console.log('answers other than served or over quota:', Object.fromEntries(codes))
  const written = (await rowsWritten(all)) - before
  return { served, refused, other, written }
}

export async function quotaOvershoot(record: Record_): Promise<void> {
  const all = await isolates()
  try {
    const perDay = 1000
    const r = await spend(all, { requestsPerDay: perDay }, 1.5 * perDay)
    record(
      `client quota of ${perDay} requests/day, 8 isolates, ${1.5 * perDay} sent: served past the quota`,
      `${r.served - perDay} (${fmt(((r.served - perDay) / perDay) * 100, 1)} %)`,
      '≤ 2 %',
      r.served - perDay <= perDay * 0.02 && r.other === 0,
    )
    record('  D1 rows written per served request (client usage and pool usage)', fmt(r.written / r.served, 3))

    const tokens = 10_000
    const t = await spend(all, { tokensPerDay: tokens }, (1.5 * tokens) / TOKENS_PER_ANSWER)
    const past = t.served * TOKENS_PER_ANSWER - tokens
    record(
      `client quota of ${tokens} tokens/day (${TOKENS_PER_ANSWER} per answer), 8 isolates: tokens past the quota`,
      `${past} (${fmt((past / tokens) * 100, 1)} %)`,
      '≤ 5 %',
      past <= tokens * 0.05 && t.other === 0,
    )
  } finally {
    await Promise.all(all.map((h) => h.dispose()))
  }
}
