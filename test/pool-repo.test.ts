import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { d1Usage } from '../worker/db/meter'
import { blockKey, changedSince, loadProviderPool, setCooldown } from '../worker/db/pool.repo'
import { startWorker, type Harness } from './harness'
import { adminHeaders, openaiKey } from './helpers'

// The request path's SQL, run as the Worker runs it, against the local D1 with the committed migrations.
let h: Harness
let ids: number[]
beforeAll(async () => {
  h = await startWorker()
  ids = await h.addKeys(
    'openai',
    Array.from({ length: 200 }, (_, i) => openaiKey(i)),
  )
})
afterAll(() => h.dispose())

const cooldownsOf = async (id: number) =>
  JSON.parse(
    (await h.d1.prepare('SELECT cooldowns FROM keys WHERE id = ?').bind(id).first<{ cooldowns: string }>())!
      .cooldowns,
  ) as Record<string, number>

describe('setCooldown', () => {
  test('a longer cooldown replaces a shorter one; a shorter one never shortens it', async () => {
    const id = ids[0]!
    await setCooldown(h.d1, id, 'gpt-4o', 1000)
    await setCooldown(h.d1, id, 'gpt-4o', 5000)
    expect((await cooldownsOf(id))['gpt-4o']).toBe(5000)
    const row = await setCooldown(h.d1, id, 'gpt-4o', 2000)
    expect((await cooldownsOf(id))['gpt-4o']).toBe(5000)
    expect(JSON.parse(row!.cooldowns)['gpt-4o']).toBe(5000)
  })

  test('concurrent cooldowns for different models of one key are all kept', async () => {
    const id = ids[1]!
    const models = Array.from({ length: 20 }, (_, i) => `model-${i}.v1:latest`)
    await Promise.all(models.map((m, i) => setCooldown(h.d1, id, m, 10_000 + i)))
    const stored = await cooldownsOf(id)
    for (const [i, m] of models.entries()) expect(stored[m]).toBe(10_000 + i)
  })

  test('does nothing to a key that is no longer active', async () => {
    const id = ids[2]!
    expect(await blockKey(h.d1, id, 'API_KEY_INVALID', 123)).toMatchObject({ status: 'blocked' })
    expect(await setCooldown(h.d1, id, 'gpt-4o', 9999)).toBeUndefined()
    expect(await cooldownsOf(id)).toEqual({})
    // Blocking twice changes nothing: the write is idempotent, so retrying it is safe.
    expect(await blockKey(h.d1, id, 'other', 456)).toBeUndefined()
    const row = await h.d1
      .prepare('SELECT blocked_reason, blocked_at FROM keys WHERE id = ?')
      .bind(id)
      .first()
    expect(row).toEqual({ blocked_reason: 'API_KEY_INVALID', blocked_at: 123 })
  })
})

describe('incremental refresh', () => {
  let lastSeq = 0
  beforeEach(async () => {
    lastSeq = (await loadProviderPool(h.d1, 'openai')).maxSeq
  })

  test('every write moves the row past the provider maximum, so changedSince finds exactly it', async () => {
    const row = await setCooldown(h.d1, ids[10]!, 'gpt-4o', 7777)
    expect(row!.seq).toBe(lastSeq + 1)
    const changed = await changedSince(h.d1, 'openai', lastSeq)
    expect(changed.map((r) => r.id)).toEqual([ids[10]])
    expect(await changedSince(h.d1, 'openai', row!.seq)).toEqual([])
  })

  test('a refresh reads only changed rows, and a write reads and writes a handful, not the pool', async () => {
    const before = { ...d1Usage }
    await changedSince(h.d1, 'openai', lastSeq)
    const idleRead = d1Usage.rowsRead - before.rowsRead
    expect(idleRead).toBeLessThanOrEqual(1)

    const beforeWrite = { ...d1Usage }
    await setCooldown(h.d1, ids[20]!, 'gpt-4o', 8888)
    expect(d1Usage.rowsRead - beforeWrite.rowsRead).toBeLessThanOrEqual(4)
    expect(d1Usage.rowsWritten - beforeWrite.rowsWritten).toBeLessThanOrEqual(4)
  })
})

describe('a cold load', () => {
  test('reads the pages and only the keys whose state differs, and gets every key right', async () => {
    const before = { ...d1Usage }
    const pool = await loadProviderPool(h.d1, 'openai')
    // 200 keys: one page, plus the handful blocked or cooling above, plus max(seq).
    expect(d1Usage.rowsRead - before.rowsRead).toBeLessThanOrEqual(12)
    expect(pool.rows).toHaveLength(200)
    const byId = new Map(pool.rows.map((r) => [r.id, r]))
    expect(byId.get(ids[2]!)?.status).toBe('blocked')
    expect(JSON.parse(byId.get(ids[0]!)!.cooldowns)['gpt-4o']).toBe(5000)
    expect(byId.get(ids[150]!)).toMatchObject({ key: openaiKey(150), status: 'active', cooldowns: '{}' })
  })

  test('pages follow adds and deletes, in pages of 1,000', async () => {
    await h.addKeys(
      'groq',
      Array.from({ length: 2500 }, (_, i) => `gsk-${i}`),
    )
    const pages = await h.d1
      .prepare("SELECT page FROM key_pages WHERE provider = 'groq' ORDER BY page")
      .all<{ page: number }>()
    expect(pages.results.map((p) => p.page)).toEqual([0, 1, 2])
    const groq = await loadProviderPool(h.d1, 'groq')
    expect(groq.rows).toHaveLength(2500)
    const gone = groq.rows.slice(0, 10).map((r) => r.id)
    await h.fetch('/admin/api/keys', {
      method: 'DELETE',
      headers: adminHeaders(),
      body: JSON.stringify({ ids: gone }),
    })
    const after = await loadProviderPool(h.d1, 'groq')
    expect(after.rows).toHaveLength(2490)
    expect(after.rows.some((r) => gone.includes(r.id))).toBe(false)
    expect(JSON.stringify(after.rows)).not.toContain('deleted:')
  })
})
