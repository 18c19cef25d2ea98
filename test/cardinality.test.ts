import { afterAll, beforeAll, expect, test } from 'vitest'
import { startWorker, type Harness } from './harness'
import { adminHeaders, googleInit, googleKey } from './helpers'

// A model name is the caller's text: thousands of invented names must not grow the usage table or
// the overview by a row each (issue 23). Models the provider never ran or metered share `(other)`.
let h: Harness
beforeAll(async () => {
  h = await startWorker({ vars: { STATS_FLUSH_SECONDS: '1' } })
  await h.addKeys('google-ai-studio', [googleKey(1), googleKey(2)])
})
afterAll(() => h.dispose())

const path = (model: string) => `/api/google-ai-studio/v1beta/models/${model}:generateContent`

test('1,000 invented model names: one (other) row, an overview of the same size as before', async () => {
  for (let i = 0; i < 3; i++) expect((await h.fetch(path('gemini-2.5-flash'), googleInit())).status).toBe(200)
  await new Promise((r) => setTimeout(r, 1500))
  const overview = async () => (await h.fetch('/admin/api/overview', { headers: adminHeaders() })).text()
  const before = (await overview()).length

  for (let i = 0; i < 1000; i += 50) {
    const batch = Array.from({ length: 50 }, (_, j) => h.fetch(path(`made-up-model-${i + j}`), googleInit()))
    for (const res of await Promise.all(batch)) expect(res.status).toBe(404)
  }
  await new Promise((r) => setTimeout(r, 1500))

  const models = await h.d1
    .prepare(
      "SELECT DISTINCT json_extract(j.value, '$[2]') AS model FROM usage_batches AS b, json_each(b.entries) AS j",
    )
    .all<{ model: string }>()
  expect(models.results.map((r) => r.model).sort()).toEqual(['(other)', 'gemini-2.5-flash'])
  const counted = await h.d1
    .prepare(
      "SELECT sum(json_extract(j.value, '$[3]')) AS n FROM usage_batches AS b, json_each(b.entries) AS j WHERE json_extract(j.value, '$[2]') = '(other)'",
    )
    .first<{ n: number }>()
  expect(counted?.n).toBe(1000) // every request counted, none by its own name
  expect((await overview()).length).toBeLessThan(before + 200)
}, 60_000)
