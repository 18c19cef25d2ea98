import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AUTH_KEY, startWorker, type Harness } from './harness'
import { errorCode } from './helpers'

let h: Harness
beforeAll(async () => {
  h = await startWorker({ authKey: `${AUTH_KEY};kr-limited=openai` })
})
afterAll(() => h.dispose())

const ORIGIN = 'http://keyrelay.test'
const login = (authKey: string, ip = '198.51.100.7', origin = ORIGIN) =>
  h.fetch('/admin/api/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin, 'cf-connecting-ip': ip },
    body: JSON.stringify({ authKey }),
  })
const cookieOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0] ?? ''

describe('dashboard sessions', () => {
  test('a login sets an HttpOnly, SameSite=Strict cookie that carries no secret', async () => {
    const res = await login(AUTH_KEY)
    expect(res.status).toBe(200)
    const header = res.headers.get('set-cookie') ?? ''
    expect(header).toMatch(/^kr_session=[\w.-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure$/)
    expect(header).not.toContain(AUTH_KEY)
    const keys = await h.fetch('/admin/api/keys', { headers: { cookie: cookieOf(res) } })
    expect(keys.status).toBe(200)
  })

  test('Secure is left out only on localhost, where the dashboard runs over http', async () => {
    const res = await fetch(`${h.url}/admin/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: h.url },
      body: JSON.stringify({ authKey: AUTH_KEY }),
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('set-cookie')).not.toContain('Secure')
  })

  test('a tampered or foreign cookie is refused', async () => {
    const good = cookieOf(await login(AUTH_KEY))
    const [name, value] = good.split('=') as [string, string]
    const [id, expiry, sig] = value.split('.') as [string, string, string]
    for (const cookie of [
      `${name}=${id}.${Number(expiry) + 3600}.${sig}`,
      `${name}=${id}.${expiry}.${sig.slice(0, -2)}AA`,
      `${name}=${id.slice(0, -2)}AA.${expiry}.${sig}`,
      `${name}=garbage`,
    ]) {
      const res = await h.fetch('/admin/api/keys', { headers: { cookie } })
      expect(res.status).toBe(401)
    }
    expect((await h.fetch('/admin/api/keys', { headers: { cookie: good } })).status).toBe(200)
  })

  test('changes through the session must come from the dashboard origin', async () => {
    const cookie = cookieOf(await login(AUTH_KEY))
    const body = JSON.stringify({ provider: 'openai', keys: ['sk-from-a-form-0000000001'] })
    for (const origin of ['https://evil.example', undefined]) {
      const res = await h.fetch('/admin/api/keys', {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', ...(origin ? { origin } : {}) },
        body,
      })
      expect(res.status).toBe(403)
      expect(await errorCode(res)).toBe('bad_origin')
    }
    const ok = await h.fetch('/admin/api/keys', {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', origin: ORIGIN },
      body,
    })
    expect(ok.status).toBe(200)
    // Reading needs no Origin; scripts with a Bearer token need none either.
    expect((await h.fetch('/admin/api/keys', { headers: { cookie } })).status).toBe(200)
  })

  test('a restricted AUTH_KEY cannot log in', async () => {
    const res = await login('kr-limited', '198.51.100.99')
    expect(res.status).toBe(403)
  })

  test('repeated failed logins are slowed down, per client', async () => {
    const ip = '203.0.113.50'
    for (let i = 0; i < 4; i++) expect((await login(`wrong-${i}`, ip)).status).toBe(401)
    const throttled = await login(AUTH_KEY, ip)
    expect(throttled.status).toBe(429)
    expect(await errorCode(throttled)).toBe('auth_throttled')
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0)
    // Another client is not affected.
    expect((await login(AUTH_KEY, '203.0.113.51')).status).toBe(200)
  })

  test('logging out ends the session for good, not only in this browser', async () => {
    const cookie = cookieOf(await login(AUTH_KEY))
    expect((await h.fetch('/admin/api/keys', { headers: { cookie } })).status).toBe(200)
    const res = await h.fetch('/admin/api/session', { method: 'DELETE', headers: { origin: ORIGIN, cookie } })
    expect(res.headers.get('set-cookie')).toMatch(/^kr_session=; .*Max-Age=0/)
    // The same cookie, kept by someone (a copied header, a stolen file), no longer works.
    const replay = await h.fetch('/admin/api/keys', { headers: { cookie } })
    expect(replay.status).toBe(401)
    expect(await errorCode(replay)).toBe('session_expired')
  })

  test('"log out everywhere" ends every session', async () => {
    const cookies = [cookieOf(await login(AUTH_KEY)), cookieOf(await login(AUTH_KEY))]
    const res = await h.fetch('/admin/api/sessions', {
      method: 'DELETE',
      headers: { origin: ORIGIN, cookie: cookies[0]! },
    })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { ended: number }).ended).toBeGreaterThanOrEqual(2)
    for (const cookie of cookies)
      expect((await h.fetch('/admin/api/keys', { headers: { cookie } })).status).toBe(401)
  })
})

describe('a session belongs to the AUTH_KEY entry that opened it', () => {
  test('removing or changing that entry ends its sessions; other entries keep theirs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyrelay-sessions-'))
    const start = (authKey: string, applyMigrations: boolean) =>
      startWorker({ authKey, d1Persist: dir, applyMigrations })
    const loginTo = (w: Harness, authKey: string) =>
      w.fetch('/admin/api/session', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        body: JSON.stringify({ authKey }),
      })
    const first = await start('kr-owner-entry;kr-second-admin', true)
    const ownerCookie = cookieOf(await loginTo(first, 'kr-owner-entry'))
    const secondCookie = cookieOf(await loginTo(first, 'kr-second-admin'))
    await first.dispose()
    // The deployment's AUTH_KEY changes: the second entry is gone, the owner's stays.
    const next = await start('kr-owner-entry;kr-new-admin', false)
    try {
      expect((await next.fetch('/admin/api/keys', { headers: { cookie: ownerCookie } })).status).toBe(200)
      expect((await next.fetch('/admin/api/keys', { headers: { cookie: secondCookie } })).status).toBe(401)
    } finally {
      await next.dispose()
    }
  })
})
