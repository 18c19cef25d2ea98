import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { AUTH_KEY, startWorker, type Harness } from './harness'
import { adminHeaders, errorCode, GEMINI_PATH, googleInit, googleKey } from './helpers'

// Provider keys at rest (issue 12): sealed in D1, opened only inside the Worker.
const dir = mkdtempSync(join(tmpdir(), 'keyrelay-encryption-'))
const keys = [googleKey(1), googleKey(2), googleKey(3)]
let h: Harness
beforeAll(async () => {
  h = await startWorker({ d1Persist: dir })
  await h.addKeys('google-ai-studio', keys)
})
afterAll(() => h.dispose())

const dump = async (d1: D1Database) =>
  JSON.stringify([
    (await d1.prepare('SELECT * FROM keys').all()).results,
    (await d1.prepare('SELECT * FROM key_pages').all()).results,
  ])

test('no provider key is stored in the clear: not in keys, not in key_pages', async () => {
  const everything = await dump(h.d1)
  for (const k of keys) {
    expect(everything).not.toContain(k)
    expect(everything).not.toContain(k.slice(-12))
  }
  const rows = await h.d1
    .prepare('SELECT key, fingerprint FROM keys')
    .all<{ key: string; fingerprint: string }>()
  for (const r of rows.results) {
    expect(r.key).toMatch(/^enc:v1:[A-Za-z0-9_-]+$/)
    expect(r.fingerprint).toMatch(/^[0-9a-f]{32}$/)
  }
})

test('the Worker opens them where they are used: upstream, the masked listing, search, full export', async () => {
  for (let i = 0; i < 3; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  expect(new Set(h.gateway.requests.map((r) => r.key))).toEqual(new Set(keys))
  const listing = (await (
    await h.fetch(`/admin/api/keys?provider=google-ai-studio&q=${keys[1]!.slice(-6)}`, {
      headers: adminHeaders(),
    })
  ).json()) as { keys: { key: string }[] }
  expect(listing.keys.map((k) => k.key)).toEqual([`${keys[1]!.slice(0, 4)}…${keys[1]!.slice(-4)}`])
  const exported = await h.fetch('/admin/api/keys/export', {
    method: 'POST',
    headers: { ...adminHeaders() },
    body: JSON.stringify({ provider: 'google-ai-studio', full: true }),
  })
  expect((await exported.text()).trim().split('\n')).toEqual(keys)
})

test('with another ENCRYPTION_KEY the stored keys cannot be used, and the error says why', async () => {
  const other = await startWorker({
    d1Persist: dir,
    applyMigrations: false,
    vars: { ENCRYPTION_KEY: 'a-different-encryption-key-00000000000000' },
  })
  try {
    const res = await other.fetch(GEMINI_PATH, googleInit())
    expect(res.status).toBe(500)
    expect(await errorCode(res)).toBe('keys_undecryptable')
    expect(other.gateway.requests).toHaveLength(0)
    const listing = (await (
      await other.fetch('/admin/api/keys?provider=google-ai-studio', { headers: adminHeaders() })
    ).json()) as { keys: { key: string }[] }
    expect(listing.keys).toHaveLength(3)
    for (const k of listing.keys)
      for (const plain of keys) expect(k.key).not.toBe(`${plain.slice(0, 4)}…${plain.slice(-4)}`)
    await expect.poll(() => other.logs.some((l) => l.includes('"event":"key_undecryptable"'))).toBe(true)
  } finally {
    await other.dispose()
  }
})

test('after ENCRYPTION_KEY changes: the setup check counts the keys it cannot open and says what to do; re-adding them says they may be stored twice; they can be deleted', async () => {
  const other = await startWorker({
    d1Persist: dir,
    applyMigrations: false,
    vars: { ENCRYPTION_KEY: 'another-encryption-key-for-the-setup-check-0001' },
  })
  try {
    const setup = async () =>
      (
        (await (await other.fetch('/admin/api/setup', { headers: adminHeaders() })).json()) as {
          checks: { id: string; status: string; detail: string; fix?: string }[]
        }
      ).checks.find((c) => c.id === 'encryption')!
    const before = await setup()
    expect(before.status).toBe('failing')
    expect(before.detail).toContain('3 of 3 stored keys cannot be opened with this ENCRYPTION_KEY')
    expect(before.fix).toContain('"unopenable": true')

    const readded = (await (
      await other.fetch('/admin/api/keys', {
        method: 'POST',
        headers: adminHeaders(),
        body: JSON.stringify({ provider: 'google-ai-studio', keys }),
      })
    ).json()) as { added: number; unopenable?: number; warning?: string }
    expect(readded.added).toBe(3)
    expect(readded.unopenable).toBe(3)
    expect(readded.warning).toContain('stored twice')
    expect((await setup()).status).toBe('warning')

    const deleted = (await (
      await other.fetch('/admin/api/keys', {
        method: 'DELETE',
        headers: adminHeaders(),
        body: JSON.stringify({ unopenable: true }),
      })
    ).json()) as { deleted: number }
    expect(deleted.deleted).toBe(3)
    expect((await setup()).status).toBe('ok')
    expect((await other.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  } finally {
    await other.dispose()
  }
})

test('ENCRYPTION_KEY is required and must be long enough; its value never appears in the error', async () => {
  const short = await startWorker({ vars: { ENCRYPTION_KEY: 'short-secret' } })
  try {
    const res = await short.fetch('/admin/api/keys', { headers: { authorization: `Bearer ${AUTH_KEY}` } })
    expect(res.status).toBe(500)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('config_invalid')
    expect(body.error.message).toContain('ENCRYPTION_KEY')
    expect(body.error.message).not.toContain('short-secret')
  } finally {
    await short.dispose()
  }
})
