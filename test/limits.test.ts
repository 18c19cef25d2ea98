import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { replies } from './gateway/replies'
import { startWorker, type Harness } from './harness'
import { adminHeaders, errorCode, googleInit, googleKey } from './helpers'

// What each pool key has left today (issue 25): free-tier figures per model from the adapter, set
// per model and key group by the operator, against the requests counted since midnight Pacific.
let h: Harness
let ids: number[]
const FLASH = '/api/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent'

interface Left {
  model: string
  limits: { requestsPerDay?: number; requestsPerMinute?: number }
  overridden: boolean
  projects: number
  requestsPerDay: number
  used: number
  left: number
  perProject: { project: string; keys: number[]; requestsPerDay: number; used: number; left: number }[]
}
interface Limits {
  freeTier: { readOn: string; source: string } | null
  dayStart: number
  resetsAt: number
  models: Left[]
}

const admin = (method: string, path: string, body?: unknown) =>
  h.fetch(`/admin/api${path}`, {
    method,
    headers: adminHeaders(),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
const limits = async (): Promise<Limits> => (await (await admin('GET', '/limits')).json()) as Limits
const model = async (name: string) => (await limits()).models.find((m) => m.model === name)

beforeAll(async () => {
  h = await startWorker({ vars: { STATS_FLUSH_SECONDS: '1' } })
  // Two keys of one project, one key on its own, and a project whose only key is blocked.
  ids = await h.addKeys('google-ai-studio', [googleKey(1), googleKey(2), googleKey(3), googleKey(4)])
  expect((await admin('PATCH', '/keys', { ids: ids.slice(0, 2), group: 'proj-a' })).status).toBe(200)
  expect((await admin('PATCH', `/keys/${ids[3]}`, { group: 'proj-dead', status: 'blocked' })).status).toBe(
    200,
  )
})
afterAll(() => h.dispose())

describe('requests left today', () => {
  test('each model across projects, from the published table, with when it was read', async () => {
    const before = await limits()
    expect(before.freeTier).toMatchObject({
      readOn: '2025-09',
      source: expect.stringContaining('ai.google.dev'),
    })
    // Google's day: it began at the last midnight in Los Angeles, and ends 24 h (±1 for DST) later.
    expect(before.resetsAt - before.dayStart).toBeGreaterThanOrEqual(23 * 3600)
    expect(before.resetsAt).toBeGreaterThan(Date.now() / 1000)
    const pro = before.models.find((m) => m.model === 'gemini-2.5-pro')
    // proj-a and key 3's own project; proj-dead has no key that can serve.
    expect(pro).toMatchObject({ projects: 2, requestsPerDay: 200, used: 0, left: 200 })

    for (let i = 0; i < 6; i++) expect((await h.fetch(FLASH, googleInit())).status).toBe(200)
    await expect
      .poll(async () => (await model('gemini-2.5-flash'))?.used, { timeout: 10_000, interval: 300 })
      .toBe(6)
    const flash = (await model('gemini-2.5-flash'))!
    expect(flash).toMatchObject({ projects: 2, requestsPerDay: 500, used: 6, left: 494 })
    const byProject = new Map(flash.perProject.map((p) => [p.project, p]))
    expect(byProject.get('proj-a')?.keys.sort()).toEqual(ids.slice(0, 2).sort())
    expect(byProject.get(`#${ids[2]}`)?.keys).toEqual([ids[2]])
    expect(flash.perProject.reduce((n, p) => n + p.used, 0)).toBe(6)

    // What the overview asks: the same totals, without each model's list of projects.
    const totals = (await (await admin('GET', '/limits?projects=none')).json()) as Limits
    const lean = totals.models.find((m) => m.model === 'gemini-2.5-flash')!
    const { perProject, ...rest } = flash
    expect(perProject.length).toBe(2)
    expect(lean).toEqual(rest)
  })

  test('a 429 is not a request the provider counted', async () => {
    const before = (await model('gemini-2.5-flash'))!.used
    h.gateway.on(googleKey(3), () => replies.googleMinute429())
    for (let i = 0; i < 3; i++) expect((await h.fetch(FLASH, googleInit())).status).toBe(200)
    await expect
      .poll(async () => (await model('gemini-2.5-flash'))?.used, { timeout: 10_000, interval: 300 })
      .toBe(before + 3)
    h.gateway.reset()
  })

  test('figures set per model and group override the table; removed, the table holds again', async () => {
    const all = await admin('PUT', '/limits', {
      provider: 'google-ai-studio',
      model: 'gemini-2.5-flash',
      requestsPerDay: 20,
    })
    expect(all.status).toBe(200)
    expect(
      (
        await admin('PUT', '/limits', {
          provider: 'google-ai-studio',
          model: 'gemini-2.5-flash',
          group: 'proj-a',
          requestsPerDay: 2,
        })
      ).status,
    ).toBe(200)
    const flash = (await model('gemini-2.5-flash'))!
    expect(flash.overridden).toBe(true)
    expect(flash.limits.requestsPerDay).toBe(20)
    // The table's per-minute figure stays where only the daily one was set.
    expect(flash.limits.requestsPerMinute).toBe(10)
    const a = flash.perProject.find((p) => p.project === 'proj-a')!
    expect(a).toMatchObject({ requestsPerDay: 2, left: Math.max(0, 2 - a.used) })
    expect(flash.requestsPerDay).toBe(22)
    // A model the table does not know, made countable by setting it.
    await admin('PUT', '/limits', { provider: 'google-ai-studio', model: 'gemini-3-pro', requestsPerDay: 50 })
    expect(await model('gemini-3-pro')).toMatchObject({ projects: 2, requestsPerDay: 100, left: 100 })

    for (const group of ['proj-a', undefined]) {
      const res = await admin('DELETE', '/limits', {
        provider: 'google-ai-studio',
        model: 'gemini-2.5-flash',
        group,
      })
      expect(res.status).toBe(200)
    }
    expect(await model('gemini-2.5-flash')).toMatchObject({ overridden: false, requestsPerDay: 500 })
    const gone = await admin('DELETE', '/limits', { provider: 'google-ai-studio', model: 'gemini-2.5-flash' })
    expect(gone.status).toBe(404)
    expect(await errorCode(gone)).toBe('limit_not_found')
  })

  test('bad figures, groups and providers are refused with the reason, and nothing is stored', async () => {
    const before = (await limits()).models.length
    for (const body of [
      { provider: 'google-ai-studio', model: 'gemini-2.5-pro', requestsPerDay: 0 },
      { provider: 'google-ai-studio', model: 'gemini-2.5-pro', requestsPerDay: 1.5 },
      { provider: 'google-ai-studio', model: 'gemini-2.5-pro', group: 'two words', requestsPerDay: 5 },
      { provider: 'gemini', model: 'gemini-2.5-pro', requestsPerDay: 5 },
      { provider: 'google-ai-studio', model: 'a model', requestsPerDay: 5 },
      { provider: 'google-ai-studio', model: 'gemini-2.5-pro', perDay: 5 },
    ]) {
      const res = await admin('PUT', '/limits', body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(['invalid_body', 'invalid_model']).toContain(await errorCode(res))
    }
    expect((await admin('GET', '/limits?provider=nope')).status).toBe(400)
    const badProjects = await admin('GET', '/limits?projects=some')
    expect(badProjects.status).toBe(400)
    expect(await errorCode(badProjects)).toBe('invalid_query')
    expect((await limits()).models.length).toBe(before)
    expect((await limits()).models.find((m) => m.model === 'gemini-2.5-pro')?.overridden).toBe(false)
  })
})
