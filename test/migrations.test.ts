import { readdirSync, readFileSync } from 'node:fs'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { ROOT } from './build'
import { startWorker, type Harness } from './harness'
import { GEMINI_PATH, googleInit, googleKey } from './helpers'

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
  expect(JSON.parse(page!.keys)).toEqual([
    [1, googleKey(0)],
    [2, googleKey(1)],
  ])
  for (let i = 0; i < 4; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  expect(new Set(h.gateway.requests.map((r) => r.key))).toEqual(new Set([googleKey(0), googleKey(1)]))
})
