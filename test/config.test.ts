import { afterEach, expect, test } from 'vitest'
import { MockGateway } from './gateway/mock-gateway'
import { AUTH_KEY, startWorker, type Harness } from './harness'
import { adminHeaders, errorCode, GEMINI_PATH, googleInit, googleKey } from './helpers'

let h: Harness | undefined
afterEach(async () => {
  await h?.dispose()
  h = undefined
})

async function configError(res: Response): Promise<string> {
  expect(res.status).toBe(500)
  const body = (await res.json()) as { error: { code: string; message: string } }
  expect(body.error.code).toBe('config_invalid')
  return body.error.message
}

test('a missing AUTH_KEY is named, on every route', async () => {
  h = await startWorker({ authKey: '' })
  const message = await configError(await h.fetch(GEMINI_PATH, googleInit()))
  expect(message).toContain('AUTH_KEY')
  await configError(await h.fetch('/admin/api/keys', { headers: adminHeaders() }))
})

test('a malformed AUTH_KEY is named by position, never quoted', async () => {
  h = await startWorker({ authKey: 'good-entry;bad(entry' })
  const message = await configError(await h.fetch('/admin/api/keys', { headers: adminHeaders('good-entry') }))
  expect(message).toContain('AUTH_KEY')
  expect(message).toContain('entry 2')
  expect(message).not.toContain('bad(entry')
  expect(h.logs.join('\n')).not.toContain('bad(entry')
})

test('bad tunables and URLs are named without their values', async () => {
  h = await startWorker({ vars: { GATEWAY_URL: 'ftp://secret-host.example/x', MAX_ATTEMPTS: 'lots' } })
  const message = await configError(await h.fetch(GEMINI_PATH, googleInit()))
  expect(message).toContain('GATEWAY_URL')
  expect(message).toContain('MAX_ATTEMPTS')
  expect(message).not.toContain('secret-host')
  expect(message).not.toContain('lots')
})

test('without a gateway the admin API works and the proxy says what to set', async () => {
  h = await startWorker({ vars: { GATEWAY_URL: '' } })
  expect((await h.fetch('/admin/api/keys', { headers: adminHeaders() })).status).toBe(200)
  const message = await configError(await h.fetch(GEMINI_PATH, googleInit()))
  expect(message).toMatch(/GATEWAY_URL.*CF_ACCOUNT_ID.*AI_GATEWAY/)
})

test('CF_ACCOUNT_ID and AI_GATEWAY build the real gateway URL; AI_GATEWAY_TOKEN rides in cf-aig-authorization', async () => {
  const account = 'abcdefabcdefabcdefabcdefabcdef12'
  const gateway = new MockGateway(`https://gateway.ai.cloudflare.com/v1/${account}/my-gw`)
  h = await startWorker({
    gateway,
    vars: { GATEWAY_URL: '', CF_ACCOUNT_ID: account, AI_GATEWAY: 'my-gw', AI_GATEWAY_TOKEN: 'aig-token-123' },
  })
  await h.addKeys('google-ai-studio', [googleKey(1)])
  expect(
    (await h.fetch(GEMINI_PATH, googleInit({ 'cf-aig-authorization': 'Bearer client-sent' }))).status,
  ).toBe(200)
  const seen = gateway.requests[0]!
  expect(seen.url).toBe(
    `https://gateway.ai.cloudflare.com/v1/${account}/my-gw/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent`,
  )
  expect(seen.headers['cf-aig-authorization']).toBe('Bearer aig-token-123')
  expect(gateway.violations).toEqual([])
})

test('MAX_ATTEMPTS bounds the upstream calls per request', async () => {
  h = await startWorker({ vars: { MAX_ATTEMPTS: '2' } })
  const keys = [googleKey(1), googleKey(2), googleKey(3)]
  await h.addKeys('google-ai-studio', keys)
  for (const k of keys) h.gateway.on(k, () => new Response('{"error":{"code":500}}', { status: 500 }))
  expect((await h.fetch(GEMINI_PATH, googleInit())).status).toBe(500)
  expect(h.gateway.requests).toHaveLength(2)
  expect(
    await errorCode(await h.fetch('/api/openai/x', { headers: { authorization: `Bearer ${AUTH_KEY}` } })),
  ).toBe('no_keys')
})

test('the gateway controls keyrelay sends are set by their variables, and GATEWAY_HEADERS widens what clients may send', async () => {
  h = await startWorker({
    vars: { GATEWAY_MAX_ATTEMPTS: '3', GATEWAY_NO_WHOLESALE: 'off', GATEWAY_HEADERS: 'cf-aig-collect-log' },
  })
  await h.addKeys('google-ai-studio', [googleKey(1)])
  const res = await h.fetch(
    GEMINI_PATH,
    googleInit({ 'cf-aig-collect-log': 'false', 'cf-aig-custom-cost': '1' }),
  )
  expect(res.status).toBe(200)
  const seen = h.gateway.requests[0]!.headers
  expect(seen['cf-aig-max-attempts']).toBe('3')
  expect(seen['cf-aig-no-wholesale']).toBeUndefined()
  expect(seen['cf-aig-collect-log']).toBe('false')
  expect(seen['cf-aig-custom-cost']).toBeUndefined()
})

test("GATEWAY_HEADERS can never hand a client keyrelay's own gateway controls", async () => {
  h = await startWorker({ vars: { GATEWAY_HEADERS: 'cf-aig-collect-log,cf-aig-byok-alias' } })
  const message = await configError(await h.fetch(GEMINI_PATH, googleInit()))
  expect(message).toContain('GATEWAY_HEADERS')
})
