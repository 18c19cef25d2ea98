import { afterAll, beforeAll, expect, test } from 'vitest'
import { AUTH_KEY, startWorker, type Harness } from '../harness'
import { adminHeaders, errorCode, openaiKey } from '../helpers'

let h: Harness
beforeAll(async () => {
  h = await startWorker()
  await h.addKeys('openai', [openaiKey(1)])
})
afterAll(() => h.dispose())

const bearer = { authorization: `Bearer ${AUTH_KEY}`, 'content-type': 'application/json' }

test('a 20 MB body is forwarded whole, once per attempt, not parsed for a model', async () => {
  const big = JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'x'.repeat(20 * 1024 * 1024) }],
  })
  const res = await h.fetch('/api/openai/chat/completions', { method: 'POST', headers: bearer, body: big })
  expect(res.status).toBe(200)
  expect(h.gateway.requests.at(-1)?.body.length).toBe(big.length)
})

test('invalid UTF-8 on the compat route is a 400 with a stable code', async () => {
  const bytes = new Uint8Array([
    0x7b, 0x22, 0x6d, 0x6f, 0x64, 0x65, 0x6c, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d,
  ])
  const res = await h.fetch('/api/compat/chat/completions', { method: 'POST', headers: bearer, body: bytes })
  expect(res.status).toBe(400)
  expect(await errorCode(res)).toBe('invalid_json')
})

test('non-JSON and empty bodies on compat routes are 400s, never 500s', async () => {
  for (const body of ['', 'not json', '[]', 'null', '{"model": 5}', '{"model": ""}']) {
    const res = await h.fetch('/api/compat/chat/completions', { method: 'POST', headers: bearer, body })
    expect(res.status, body).toBe(400)
    expect(await errorCode(res)).toMatch(/^invalid_(json|body)$/)
  }
})

test('header values that try to smuggle another header are not forwarded as headers', async () => {
  const res = await h.fetch('/api/openai/chat/completions', {
    method: 'POST',
    headers: { ...bearer, 'x-note': 'a: b\tx-api-key: stolen' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [] }),
  })
  expect(res.status).toBe(200)
  const seen = h.gateway.requests.at(-1)!
  expect(seen.headers['x-api-key']).toBeUndefined()
  expect(seen.headers.authorization).toBe(`Bearer ${openaiKey(1)}`)
})

test('a 10,000-key import with one garbage line stores nothing; without it, every valid key exactly once', async () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `sk-import-${String(i).padStart(24, '0')}`)
  const count = async () =>
    (
      await h.d1
        .prepare("SELECT count(*) AS n FROM keys WHERE provider = 'mistral' AND status != 'deleted'")
        .first<{ n: number }>()
    )?.n
  const withGarbage = [
    ...keys.slice(0, 5000),
    '  ',
    'ключ-not-a-key',
    ...keys.slice(5000),
    ...keys.slice(0, 100),
  ]
  const refused = await h.fetch('/admin/api/keys', {
    method: 'POST',
    headers: adminHeaders(),
    body: JSON.stringify({ provider: 'mistral', keys: withGarbage }),
  })
  expect(refused.status).toBe(400)
  expect(await errorCode(refused)).toBe('invalid_key')
  expect(await count()).toBe(0)

  const clean = withGarbage.filter((k) => !k.startsWith('ключ'))
  const ok = await h.fetch('/admin/api/keys', {
    method: 'POST',
    headers: adminHeaders(),
    body: JSON.stringify({ provider: 'mistral', keys: clean }),
  })
  expect(await ok.json()).toMatchObject({ added: 10_000, skipped: 100 })
  expect(await count()).toBe(10_000)
  const distinct = await h.d1
    .prepare("SELECT count(DISTINCT fingerprint) AS n FROM keys WHERE provider = 'mistral'")
    .first<{ n: number }>()
  expect(distinct?.n).toBe(10_000)
})
