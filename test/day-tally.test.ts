import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { REPO_BUNDLE } from './build'
import { MockGateway } from './gateway/mock-gateway'
import { replies } from './gateway/replies'
import { startWorker, type Harness } from './harness'
import { adminHeaders, GEMINI_PATH, googleInit, googleKey } from './helpers'

// Issue 25: a project that has used its day for a model, by keyrelay's own count, is passed over
// before Google answers 429 (pool/day-tally.ts). Google sends no rate-limit headers, so without the
// count every project's last request of the day is a 429.

const admin = (h: Harness, method: string, path: string, body?: unknown) =>
  h.fetch(`/admin/api${path}`, {
    method,
    headers: adminHeaders(),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })

async function addGroup(h: Harness, group: string, keys: string[]): Promise<void> {
  const res = await admin(h, 'POST', '/keys', { provider: 'google-ai-studio', keys, group })
  expect(res.status).toBe(200)
}

const setDayFigure = async (h: Harness, group: string, requestsPerDay: number) =>
  expect(
    (
      await admin(h, 'PUT', '/limits', {
        provider: 'google-ai-studio',
        model: 'gemini-2.5-flash',
        group,
        requestsPerDay,
      })
    ).status,
  ).toBe(200)

/** A Google project as the stand-in plays it: `figure` requests a day over all its keys, then its daily 429. */
function project(
  gateway: MockGateway,
  keys: string[],
  figure: number,
): { served: () => number; refused: () => number } {
  let served = 0
  let refused = 0
  for (const key of keys) {
    gateway.on(key, () => {
      if (served >= figure) {
        refused++
        return replies.googleDaily429()
      }
      served++
      return replies.googleOk()
    })
  }
  return { served: () => served, refused: () => refused }
}

describe('one isolate', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startWorker({ vars: { STATS_FLUSH_SECONDS: '1' } })
  })
  afterAll(() => h.dispose())
  afterEach(async () => {
    await h.clearKeys()
    h.gateway.reset()
  })

  test("a project's keys are passed over once it has used its day, before Google's 429", async () => {
    const small = [googleKey(1), googleKey(2)]
    await addGroup(h, 'small', small)
    await addGroup(h, 'big', [googleKey(3)])
    await setDayFigure(h, 'small', 4)
    const smallProject = project(h.gateway, small, 4)
    for (let i = 0; i < 16; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    // Rotation gives the small project about half of the 16; the count stops it at its 4, across both
    // of its keys, and no request meets its 429.
    expect(smallProject.served()).toBe(4)
    expect(smallProject.refused()).toBe(0)
    expect(h.gateway.callsFor(googleKey(3))).toBe(12)
  })

  test('a figure that is wrong costs no request: a spent project is tried last, not refused', async () => {
    await admin(h, 'POST', '/keys', { provider: 'google-ai-studio', keys: [googleKey(4), googleKey(5)] })
    // Both keys (projects of their own) "spent" after one request each; Google serves them all the same.
    await setDayFigure(h, '', 1)
    for (let i = 0; i < 8; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    expect(h.gateway.callsFor(googleKey(4)) + h.gateway.callsFor(googleKey(5))).toBe(8)
    expect(h.gateway.callsFor(googleKey(4))).toBeGreaterThan(1)
    expect(h.gateway.callsFor(googleKey(5))).toBeGreaterThan(1)
    await admin(h, 'DELETE', '/limits', {
      provider: 'google-ai-studio',
      model: 'gemini-2.5-flash',
      group: '',
    })
  })

  test('the count is the one D1 keeps for every isolate, and the cron drops past days', async () => {
    await admin(h, 'POST', '/keys', { provider: 'google-ai-studio', keys: [googleKey(6)] })
    for (let i = 0; i < 3; i++) expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    await new Promise((r) => setTimeout(r, 2500)) // one flush (1 s here) and its sync
    const rows = await h.d1
      .prepare("SELECT day, counts FROM day_tally WHERE provider = 'google-ai-studio'")
      .all()
    const today = rows.results.at(-1) as { day: string; counts: string }
    const [id] = (
      (await (await admin(h, 'GET', '/keys?provider=google-ai-studio')).json()) as { keys: { id: number }[] }
    ).keys.map((k) => k.id)
    expect(JSON.parse(today.counts)[`gemini-2.5-flash|${id}`]).toBe(3)
    await h.d1
      .prepare(
        "INSERT INTO day_tally (provider, day, counts) VALUES ('google-ai-studio', '2020-01-01', '{}')",
      )
      .run()
    await h.cron()
    const days = await h.d1.prepare('SELECT day FROM day_tally').all()
    expect(days.results.map((r) => (r as { day: string }).day)).not.toContain('2020-01-01')
    expect(days.results.map((r) => (r as { day: string }).day)).toContain(today.day)
  })
})

describe('two isolates on one D1', () => {
  let dir: string
  let a: Harness
  let b: Harness
  const gateway = new MockGateway()
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyrelay-tally-'))
    // Flushes far apart: what the isolates learn of each other here comes from the reads near a figure.
    const vars = { STATS_FLUSH_SECONDS: '60', POOL_REFRESH_SECONDS: '1' }
    a = await startWorker({ d1Persist: dir, gateway, vars })
    b = await startWorker({ d1Persist: dir, gateway, vars, applyMigrations: false })
  })
  afterAll(async () => {
    await a.dispose()
    await b.dispose()
    rmSync(dir, { recursive: true, force: true })
  })

  test("near a project's figure each isolate reads the other's count before it picks", async () => {
    const small = [googleKey(11)]
    await addGroup(a, 'small', small)
    await addGroup(a, 'big', [googleKey(12)])
    await setDayFigure(a, 'small', 4)
    const smallProject = project(gateway, small, 4)
    await new Promise((r) => setTimeout(r, 1200)) // b's view sees the keys
    const until = async (h: Harness, served: number) => {
      for (let i = 0; i < 20 && smallProject.served() < served; i++) {
        expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
      }
      expect(smallProject.served()).toBe(served)
    }
    // a gives the small project 3 of its 4, b the last; a's own count still says 3.
    await until(a, 3)
    await until(b, 4)
    await new Promise((r) => setTimeout(r, 1200))
    // a's next picks: by its own count the small project has one left, and of two requests at once
    // rotation gives it one. Both wait for the read of b's count instead.
    const pair = await Promise.all([a.fetch(GEMINI_PATH, googleInit()), a.fetch(GEMINI_PATH, googleInit())])
    for (const r of pair) expect(r.status).toBe(200)
    for (let i = 0; i < 4; i++) expect((await a.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
    expect(smallProject.served()).toBe(4)
    expect(smallProject.refused()).toBe(0)
  })
})

describe('the tally row (db/day-tally.repo.ts), inside workerd', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startWorker({ scriptPath: REPO_BUNDLE, assets: false })
  })
  afterAll(() => h.dispose())

  interface Read {
    counts: Record<string, number>
    overrides: unknown[]
  }
  async function run(calls: { fn: string; args: unknown[] }[]) {
    const res = await h.fetch('/', { method: 'POST', body: JSON.stringify(calls) })
    expect(res.status).toBe(200)
    return (await res.json()) as { results: Read[]; usage: { rowsRead: number; rowsWritten: number } }
  }
  const sync = (day: string, deltas: Record<string, number>) => ({
    fn: 'syncDayTally',
    args: ['google-ai-studio', day, deltas],
  })

  test('concurrent syncs of many entries all count, for one row written and read each', async () => {
    // 1,200 entries: several statements, each of many nested json_set calls (D1 allows 32 arguments).
    const big = Object.fromEntries(
      Array.from({ length: 1200 }, (_, i) => [`gemini-2.5-flash|${i}`, 1 + (i % 3)]),
    )
    const small = { 'gemini-2.5-flash|7': 5, 'gemini-2.5-pro|7': 2 }
    const first = await run([sync('2026-12-05', big), sync('2026-12-05', small), sync('2026-12-05', small)])
    const last = await run([sync('2026-12-05', {})])
    const counts = (last.results[0] as Read).counts
    expect(Object.keys(counts)).toHaveLength(1201)
    expect(counts['gemini-2.5-flash|7']).toBe(1 + (7 % 3) + 10)
    expect(counts['gemini-2.5-pro|7']).toBe(4)
    expect(counts['gemini-2.5-flash|1199']).toBe(1 + (1199 % 3))
    // A sync of a few entries: its row, whatever else the row holds.
    const one = await run([sync('2026-12-05', { 'gemini-2.5-flash|8': 1 })])
    expect(one.usage.rowsWritten).toBe(1)
    expect(one.usage.rowsRead).toBeLessThanOrEqual(2)
    expect(first.usage.rowsWritten).toBeLessThan(20)
    // Another day is another row.
    const other = await run([sync('2026-12-06', { 'gemini-2.5-flash|7': 1 })])
    expect((other.results[0] as Read).counts).toEqual({ 'gemini-2.5-flash|7': 1 })
  })

  test('an entry that could break out of its JSON path is refused, and nothing is written', async () => {
    const res = await h.fetch('/', {
      method: 'POST',
      body: JSON.stringify([sync('2026-12-07', { 'gemini"|1': 1, 'gemini-2.5-flash|1': 1 })]),
    })
    expect(res.status).toBe(500)
    const rows = await h.d1
      .prepare("SELECT count(*) AS n FROM day_tally WHERE day = '2026-12-07'")
      .first<{ n: number }>()
    expect(rows?.n).toBe(0)
  })
})
