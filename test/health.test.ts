import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { replies } from './gateway/replies'
import { keyRow, startWorker, type Harness } from './harness'
import {
  adminHeaders,
  anthropicKey,
  errorCode,
  freshKeys,
  GEMINI_PATH,
  googleInit,
  googleKey,
  openaiKey,
} from './helpers'

interface Report {
  id: number
  provider: string
  key: string
  result: string
  status?: number
  reason?: string
  change: string | null
}
interface CheckAnswer {
  results: Report[]
  remaining: number
  next: Record<string, unknown> | null
}

let h: Harness
beforeAll(async () => {
  h = await startWorker({ vars: { CHECK_BATCH_SIZE: '4', POOL_REFRESH_SECONDS: '3600' } })
})
afterAll(() => h.dispose())
beforeEach(async () => {
  h.gateway.reset()
  await h.clearKeys()
})

const check = async (body: unknown): Promise<CheckAnswer> => {
  const res = await h.fetch('/admin/api/keys/check', {
    method: 'POST',
    headers: adminHeaders(),
    body: JSON.stringify(body),
  })
  expect(res.status).toBe(200)
  return (await res.json()) as CheckAnswer
}
const patch = (id: number, body: unknown) =>
  h.fetch(`/admin/api/keys/${id}`, { method: 'PATCH', headers: adminHeaders(), body: JSON.stringify(body) })

describe('checking keys', () => {
  test('each provider family is read from its real answers; probes spend no generation quota', async () => {
    const [gOk, gInvalid, gLimited, gGateway] = freshKeys(googleKey, 4)
    const [oInvalid, oNoCredit, oDown] = freshKeys(openaiKey, 3)
    const [aInvalid, aOverloaded] = freshKeys(anthropicKey, 2)
    const ids = [
      ...(await h.addKeys('google-ai-studio', [gOk!, gInvalid!, gLimited!, gGateway!])),
      ...(await h.addKeys('openai', [oInvalid!, oNoCredit!, oDown!])),
      ...(await h.addKeys('anthropic', [aInvalid!, aOverloaded!])),
    ]
    h.gateway
      .on(gInvalid!, () => replies.googleInvalidKey())
      .on(gLimited!, () => replies.googleMinute429())
      .on(gGateway!, () => replies.gatewayUnauthorized())
      .on(oInvalid!, () => replies.openaiInvalidKey())
      .on(oNoCredit!, () => replies.openaiInsufficientQuota())
      .on(oDown!, () => {
        throw new Error('connection reset')
      })
      .on(aInvalid!, () => replies.anthropicInvalidKey())
      .on(aOverloaded!, () => replies.anthropicOverloaded())

    const results: Report[] = []
    let body: Record<string, unknown> | null = { ids }
    let calls = 0
    while (body) {
      const answer = await check(body)
      expect(answer.results.length).toBeLessThanOrEqual(4) // CHECK_BATCH_SIZE
      results.push(...answer.results)
      body = answer.next
      calls++
    }
    expect(calls).toBe(3)
    const byId = new Map(results.map((r) => [r.id, r]))
    const outcome = (i: number) => [byId.get(ids[i]!)?.result, byId.get(ids[i]!)?.change]
    expect(outcome(0)).toEqual(['valid', null])
    expect(outcome(1)).toEqual(['invalid', 'blocked'])
    expect(outcome(2)).toEqual(['cooling', 'cooling'])
    expect(outcome(3)).toEqual(['inconclusive', null]) // the gateway's own error
    expect(outcome(4)).toEqual(['invalid', 'blocked'])
    expect(outcome(5)).toEqual(['cooling', 'cooling'])
    expect(outcome(6)).toEqual(['inconclusive', null]) // network
    expect(outcome(7)).toEqual(['invalid', 'blocked'])
    expect(outcome(8)).toEqual(['inconclusive', null]) // 529
    expect(byId.get(ids[1]!)?.reason).toBe('API_KEY_INVALID')

    expect((await keyRow(h.d1, ids[1]!))?.blocked_reason).toBe('API_KEY_INVALID')
    expect(JSON.parse((await keyRow(h.d1, ids[5]!))!.cooldowns)['*']).toBeGreaterThan(
      Date.now() / 1000 + 3600,
    )
    for (const i of [0, 3, 6, 8])
      expect(await keyRow(h.d1, ids[i]!)).toMatchObject({ status: 'active', cooldowns: '{}' })

    // Only model lists were asked for, with GET, with the gateway cache skipped.
    const paths = new Set(h.gateway.requests.map((r) => `${r.method} ${r.provider}/${r.path}`))
    expect(paths).toEqual(
      new Set(['GET google-ai-studio/v1beta/openai/models', 'GET openai/models', 'GET anthropic/v1/models']),
    )
    expect(h.gateway.requests.every((r) => r.headers['cf-aig-skip-cache'] === 'true')).toBe(true)
    expect(h.gateway.violations).toEqual([])
    // The listing never shows the full key in a report.
    expect(JSON.stringify(results)).not.toContain(gOk)
  })

  test('a provider page by page, with progress; a blocked key that works again is restored', async () => {
    const keys = freshKeys(openaiKey, 6)
    const ids = await h.addKeys('openai', keys)
    await patch(ids[2]!, { status: 'blocked' })
    const remaining: number[] = []
    const results: Report[] = []
    let body: Record<string, unknown> | null = { provider: 'openai' }
    while (body) {
      const answer = await check(body)
      results.push(...answer.results)
      remaining.push(answer.remaining)
      body = answer.next
    }
    expect(remaining).toEqual([2, 0])
    expect(results.map((r) => r.id)).toEqual(ids)
    expect(results.find((r) => r.id === ids[2])).toMatchObject({ result: 'valid', change: 'restored' })
    expect(await keyRow(h.d1, ids[2]!)).toMatchObject({ status: 'active', blocked_reason: null })
    const checked = await h.d1
      .prepare(
        "SELECT count(*) AS n FROM keys WHERE checked_at IS NOT NULL AND provider = ? AND status != 'deleted'",
      )
      .bind('openai')
      .first<{ n: number }>()
    expect(checked?.n).toBe(6)
  })

  test('keys of providers that cannot be checked are reported, not touched', async () => {
    const [id] = await h.addKeys('perplexity-ai', ['pplx-FAKE-keyrelay-000001'])
    const answer = await check({ ids: [id] })
    expect(answer.results[0]).toMatchObject({ result: 'unsupported', change: null })
    expect(h.gateway.requests).toHaveLength(0)
  })

  test('bad check bodies are 400s', async () => {
    for (const body of [{}, { ids: [] }, { provider: 'nope' }, { ids: [1], provider: 'openai' }]) {
      const res = await h.fetch('/admin/api/keys/check', {
        method: 'POST',
        headers: adminHeaders(),
        body: JSON.stringify(body),
      })
      expect(res.status).toBe(400)
      expect(await errorCode(res)).toBe('invalid_body')
    }
  })
})

describe('changing a key by hand', () => {
  test('block, unblock, clear cooldowns and edit the remark; the proxy follows at once', async () => {
    const [k] = freshKeys(googleKey, 1)
    const [id] = await h.addKeys('google-ai-studio', [k!])
    const blocked = await patch(id!, { status: 'blocked', remark: 'paused <b>by hand</b>' })
    expect(blocked.status).toBe(200)
    expect(await blocked.json()).toMatchObject({
      status: 'blocked',
      blockedReason: 'manual',
      remark: 'paused <b>by hand</b>',
    })
    expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(503)

    const active = await patch(id!, { status: 'active' })
    expect(await active.json()).toMatchObject({ status: 'active', blockedReason: null, blockedAt: null })
    h.gateway.on(k!, () => replies.googleMinute429())
    expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(429)
    expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(429) // all cooling now
    expect(h.gateway.callsFor(k!)).toBe(1)
    const cooling = (await (await h.fetch(`/admin/api/keys/${id}`, { headers: adminHeaders() })).json()) as {
      key: { cooldowns: Record<string, { reason: string }> }
    }
    expect(cooling.key.cooldowns['gemini-2.5-flash']?.reason).toBe('rate_limited')

    h.gateway.on(k!, () => replies.googleOk())
    const cleared = await patch(id!, { clearCooldowns: true })
    expect(await cleared.json()).toMatchObject({ cooldowns: {} })
    // Their reasons go with them.
    const stored = await h.d1
      .prepare('SELECT cooldown_reasons AS r FROM keys WHERE id = ?1')
      .bind(id)
      .first('r')
    expect(stored).toBe('{}')
    expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(200)
  })

  test('blocking a blocked key keeps its reason; errors are clear', async () => {
    const [k] = freshKeys(googleKey, 1)
    const [id] = await h.addKeys('google-ai-studio', [k!])
    h.gateway.on(k!, () => replies.googleInvalidKey())
    await h.fetch(GEMINI_PATH, googleInit())
    expect(await (await patch(id!, { status: 'blocked' })).json()).toMatchObject({
      blockedReason: 'API_KEY_INVALID',
    })
    expect(await errorCode(await patch(999_999, { remark: 'x' }))).toBe('key_not_found')
    expect(await errorCode(await patch(id!, {}))).toBe('invalid_body')
    expect(await errorCode(await patch(id!, { status: 'sleeping' }))).toBe('invalid_body')
    const badId = await h.fetch('/admin/api/keys/abc', {
      method: 'PATCH',
      headers: adminHeaders(),
      body: '{"remark":"x"}',
    })
    expect(badId.status).toBe(400)
    expect(await errorCode(badId)).toBe('invalid_id')
  })
})
