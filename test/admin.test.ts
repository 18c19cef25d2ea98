import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { AUTH_KEY, startWorker, type Harness } from './harness'
import { adminHeaders, errorCode, googleInit, GEMINI_PATH, googleKey, openaiInit } from './helpers'

let h: Harness
beforeAll(async () => {
  // A long refresh interval: anything seen at once below comes from the admin API's own invalidation.
  h = await startWorker({
    authKey: `${AUTH_KEY};kr-limited=openai;kr-gone(1000000000)`,
    vars: { POOL_REFRESH_SECONDS: '3600' },
  })
})
afterAll(() => h.dispose())

const post = (body: unknown, key = AUTH_KEY) =>
  h.fetch('/admin/api/keys', { method: 'POST', headers: adminHeaders(key), body: JSON.stringify(body) })
const list = async (query = '') => {
  const res = await h.fetch(`/admin/api/keys${query}`, { headers: adminHeaders() })
  expect(res.status).toBe(200)
  return (await res.json()) as {
    keys: { id: number; provider: string; key: string; status: string; remark: string; cooldowns: object }[]
    total: number
  }
}

describe('auth', () => {
  test.each([
    ['no credential', {}, 401, 'missing_auth_key'],
    ['a wrong key', adminHeaders('wrong'), 401, 'invalid_auth_key'],
    ['an expired key', adminHeaders('kr-gone'), 401, 'auth_key_expired'],
    ['a restricted key', adminHeaders('kr-limited'), 403, 'admin_forbidden'],
  ])('%s is refused', async (_name, headers, status, code) => {
    const res = await h.fetch('/admin/api/keys', { headers })
    expect(res.status).toBe(status)
    expect(await errorCode(res)).toBe(code)
  })
})

describe('adding keys', () => {
  test('trims, ignores empty entries, skips duplicates in the call and already stored ones', async () => {
    const res = await post({
      provider: 'openai',
      keys: [
        '  sk-one-aaaaaaaaaaaaaaaaaaaa ',
        '',
        'sk-two-bbbbbbbbbbbbbbbbbbbb',
        'sk-one-aaaaaaaaaaaaaaaaaaaa',
        '   ',
      ],
      remark: 'team A',
    })
    expect(res.status).toBe(200)
    const first = (await res.json()) as { added: number; skipped: number; ids: number[] }
    expect(first).toMatchObject({ added: 2, skipped: 1 })
    // Each distinct key's id, in the order given (sk-one, sk-two).
    expect(first.ids).toHaveLength(2)
    expect(new Set(first.ids).size).toBe(2)
    const again = await post({
      provider: 'openai',
      keys: ['sk-two-bbbbbbbbbbbbbbbbbbbb', 'sk-three-cccccccccccccccccc'],
    })
    const second = (await again.json()) as { added: number; skipped: number; ids: number[] }
    expect(second).toMatchObject({ added: 1, skipped: 1 })
    // A key already stored answers with the id it already has.
    expect(second.ids[0]).toBe(first.ids[1])
    expect(first.ids).not.toContain(second.ids[1])
    // The same key under another provider is a different entry.
    const other = await post({ provider: 'groq', keys: ['sk-two-bbbbbbbbbbbbbbbbbbbb'] })
    expect(await other.json()).toMatchObject({ added: 1, skipped: 0 })
  })

  test('lists masked keys with status, remark and running cooldowns; never a full key', async () => {
    const { keys, total } = await list('?provider=openai')
    expect(total).toBe(3)
    expect(keys.map((k) => k.key)).toEqual(['sk-o…aaaa', 'sk-t…bbbb', 'sk-t…cccc'])
    expect(keys[0]).toMatchObject({ provider: 'openai', status: 'active', remark: 'team A', cooldowns: {} })
    const raw = JSON.stringify(await list())
    expect(raw).not.toContain('sk-one-aaaaaaaaaaaaaaaaaaaa')
  })

  test('a new key serves the very next request of the isolate that added it', async () => {
    const key = googleKey(42)
    expect((await post({ provider: 'google-ai-studio', keys: [key] })).status).toBe(200)
    expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    expect(h.gateway.requests.at(-1)?.key).toBe(key)
  })

  test('10,000 keys in one call, with duplicates: each stored exactly once', async () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `AIzaSyBULK-${String(i).padStart(30, '0')}`)
    const res = await post({ provider: 'google-ai-studio', keys: [...keys, ...keys.slice(0, 500)] })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ added: 10_000, skipped: 500 })
    const { total } = await list('?provider=google-ai-studio&limit=1')
    expect(total).toBe(10_001)
    const distinct = await h.d1
      .prepare("SELECT count(DISTINCT fingerprint) AS n FROM keys WHERE provider = 'google-ai-studio'")
      .first<{ n: number }>()
    expect(distinct?.n).toBe(10_001)
  })

  test.each([
    ['not JSON', '{', 'invalid_json'],
    ['an unknown provider', JSON.stringify({ provider: 'nope', keys: ['k'] }), 'invalid_body'],
    ['keys not an array', JSON.stringify({ provider: 'openai', keys: 'k' }), 'invalid_body'],
    [
      'a key with whitespace inside',
      JSON.stringify({ provider: 'openai', keys: ['good-key-1', 'bad key'] }),
      'invalid_key',
    ],
  ])('%s: 400 with a stable code, nothing stored', async (_name, body, code) => {
    const before = (await list()).total
    const res = await h.fetch('/admin/api/keys', { method: 'POST', headers: adminHeaders(), body })
    expect(res.status).toBe(400)
    expect(await errorCode(res)).toBe(code)
    expect((await list()).total).toBe(before)
  })

  test('a rejected key is not echoed in the error', async () => {
    const res = await post({ provider: 'openai', keys: ['sk-secret-with space'] })
    expect(await res.text()).not.toContain('sk-secret')
  })
})

describe('listing and deleting', () => {
  test('filters by status and pages', async () => {
    const three = (await list('?provider=openai&q=cccc')).keys[0]!
    const res = await h.fetch(`/admin/api/keys/${three.id}`, {
      method: 'PATCH',
      headers: adminHeaders(),
      body: JSON.stringify({ status: 'blocked' }),
    })
    expect(res.status).toBe(200)
    const blocked = await list('?provider=openai&status=blocked')
    expect(blocked.total).toBe(1)
    expect(blocked.keys[0]?.status).toBe('blocked')
    const page = await list('?provider=openai&limit=1&offset=1')
    expect(page.keys).toHaveLength(1)
    expect(page.total).toBe(3)
    const bad = await h.fetch('/admin/api/keys?status=sleepy', { headers: adminHeaders() })
    expect(bad.status).toBe(400)
    expect(await errorCode(bad)).toBe('invalid_query')
  })

  test('deletes by id, wiping key material; the key can be added again', async () => {
    const { keys } = await list('?provider=openai')
    const res = await h.fetch('/admin/api/keys', {
      method: 'DELETE',
      headers: adminHeaders(),
      body: JSON.stringify({ ids: [keys[0]!.id, keys[0]!.id, 999_999] }),
    })
    expect(await res.json()).toEqual({ deleted: 1 })
    expect((await list('?provider=openai')).total).toBe(2)
    const tombstone = await h.d1
      .prepare('SELECT key, fingerprint, status FROM keys WHERE id = ?1')
      .bind(keys[0]!.id)
      .first<{ key: string; fingerprint: string | null; status: string }>()
    expect(tombstone).toEqual({ key: `deleted:${keys[0]!.id}`, fingerprint: null, status: 'deleted' })
    expect(
      await (await post({ provider: 'openai', keys: ['sk-one-aaaaaaaaaaaaaaaaaaaa'] })).json(),
    ).toMatchObject({
      added: 1,
      skipped: 0,
    })
  })

  test('a deleted key stops serving at once', async () => {
    // Delete the whole Google pool (10,001 keys), a page of 1,000 ids per call.
    for (let call = 0; call < 20; call++) {
      const page = await list('?provider=google-ai-studio&limit=1000')
      if (page.total === 0) break
      const ids = page.keys.map((k) => k.id)
      await h.fetch('/admin/api/keys', {
        method: 'DELETE',
        headers: adminHeaders(),
        body: JSON.stringify({ ids }),
      })
    }
    expect((await list('?provider=google-ai-studio')).total).toBe(0)
    const res = await h.fetch(GEMINI_PATH, googleInit())
    expect(res.status).toBe(503)
    expect(await errorCode(res)).toBe('no_keys')
  })

  test('after keys are deleted and others added, a burst of requests uses only the new ones', async () => {
    const doomed = Array.from({ length: 3 }, (_, i) => `sk-doomed-00000000000000${i}`)
    const doomedIds = await h.addKeys('deepseek', doomed)
    // Warm the isolate's view of deepseek with the doomed keys.
    for (let i = 0; i < 3; i++) await h.fetch('/api/deepseek/chat/completions', openaiInit('deepseek-chat'))
    await h.fetch('/admin/api/keys', {
      method: 'DELETE',
      headers: adminHeaders(),
      body: JSON.stringify({ ids: doomedIds }),
    })
    const fresh = Array.from({ length: 10 }, (_, i) => `sk-fresh-000000000000000${i}`)
    await h.addKeys('deepseek', fresh)
    h.gateway.reset()
    // Plain HTTP from many connections, so the requests overlap inside the Worker.
    const call = () => fetch(`${h.url}/api/deepseek/chat/completions`, openaiInit('deepseek-chat'))
    const burst = await Promise.all(Array.from({ length: 30 }, call))
    for (const r of burst) expect(r.status).toBe(200)
    for (const k of doomed) expect(h.gateway.callsFor(k)).toBe(0)
    expect(fresh.reduce((n, k) => n + h.gateway.callsFor(k), 0)).toBe(30)
  })

  test('bad delete bodies are 400s', async () => {
    for (const body of ['{"ids":[]}', '{"ids":["1"]}', '{}', 'nope']) {
      const res = await h.fetch('/admin/api/keys', { method: 'DELETE', headers: adminHeaders(), body })
      expect(res.status).toBe(400)
    }
  })
})
