import { readdirSync, readFileSync } from 'node:fs'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { ROOT } from './build'
import { startWorker, type Harness } from './harness'
import { adminHeaders, GEMINI_PATH, googleInit, googleKey } from './helpers'

let h: Harness
beforeAll(async () => {
  h = await startWorker({ applyMigrations: false })
})
afterAll(() => h.dispose())

async function apply(files: string[]): Promise<void> {
  for (const file of files) {
    const text = readFileSync(`${ROOT}migrations/${file}`, 'utf8')
    for (const statement of text
      .split('--> statement-breakpoint')
      .map((s) => s.trim())
      .filter(Boolean)) {
      await h.d1.prepare(statement).run()
    }
  }
}

test('a database with keys from before key_pages is backfilled, and the Worker serves those keys', async () => {
  const files = readdirSync(`${ROOT}migrations`)
    .filter((f) => f.endsWith('.sql'))
    .sort()
  const pagesAt = files.findIndex((f) => f.includes('key_pages'))
  await apply(files.slice(0, pagesAt))
  // Keys as an older keyrelay stored them, one of them deleted.
  for (const [i, status] of ['active', 'active', 'deleted'].entries()) {
    await h.d1
      .prepare(
        "INSERT INTO keys (provider, key, status, seq, created_at) VALUES ('google-ai-studio', ?1, ?2, 1, 0)",
      )
      .bind(status === 'deleted' ? `deleted:${i + 1}` : googleKey(i), status)
      .run()
  }
  await apply(files.slice(pagesAt))
  const page = await h.d1.prepare('SELECT keys FROM key_pages').first<{ keys: string }>()
  // [id, key, weight, tier, group], as the last page-building migration writes them.
  expect(JSON.parse(page!.keys)).toEqual([
    [1, googleKey(0), 1, 0, null],
    [2, googleKey(1), 1, 0, null],
  ])
  for (let i = 0; i < 4; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  expect(new Set(h.gateway.requests.map((r) => r.key))).toEqual(new Set([googleKey(0), googleKey(1)]))
})

test('keys stored before encryption are served while unsealed, found as duplicates, then sealed by the cron', async () => {
  // The rows above are plain text, as every keyrelay before ENCRYPTION_KEY stored them.
  const add = await h.fetch('/admin/api/keys', {
    method: 'POST',
    headers: adminHeaders(),
    body: JSON.stringify({ provider: 'google-ai-studio', keys: [googleKey(1), googleKey(7)] }),
  })
  expect(await add.json()).toEqual({ added: 1, skipped: 1, ids: [2, 4] })

  await h.cron()
  const rows = await h.d1
    .prepare("SELECT id, key, fingerprint FROM keys WHERE status != 'deleted' ORDER BY id")
    .all<{ id: number; key: string; fingerprint: string | null }>()
  expect(rows.results.map((r) => r.id)).toEqual([1, 2, 4])
  for (const r of rows.results) {
    expect(r.key).toMatch(/^enc:v1:/)
    expect(r.fingerprint).toMatch(/^[0-9a-f]{32}$/)
  }
  // Nothing in the database holds a key in the clear any more, the pages included.
  const everything = JSON.stringify([
    rows.results,
    (await h.d1.prepare('SELECT keys FROM key_pages').all()).results,
  ])
  for (const n of [0, 1, 7]) expect(everything).not.toContain(googleKey(n))
  await expect.poll(() => h.logs.some((l) => l.includes('"event":"keys_sealed"'))).toBe(true)

  // Still served, now from the sealed rows.
  h.gateway.reset()
  for (let i = 0; i < 6; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  expect(new Set(h.gateway.requests.map((r) => r.key))).toEqual(
    new Set([googleKey(0), googleKey(1), googleKey(7)]),
  )
})
