import { afterAll, beforeAll, expect, test } from 'vitest'
import { replies } from './gateway/replies'
import { report } from './reliability/report'
import { AUTH_KEY, startWorker, type Harness } from './harness'
import {
  adminHeaders,
  anthropicKey,
  GEMINI_PATH,
  googleInit,
  googleKey,
  openaiInit,
  openaiKey,
} from './helpers'

let h: Harness
const providerKeys = [
  googleKey(1),
  googleKey(2),
  googleKey(3),
  googleKey(4),
  openaiKey(1),
  openaiKey(2),
  anthropicKey(1),
]
const bodies: string[] = []

beforeAll(async () => {
  h = await startWorker()
  await h.addKeys('google-ai-studio', providerKeys.slice(0, 4))
  await h.addKeys('openai', providerKeys.slice(4, 6))
  await h.addKeys('anthropic', providerKeys.slice(6))
  h.gateway
    .on(googleKey(1), () => replies.googleDaily429())
    .on(googleKey(2), () => replies.googleSuspended())
    .on(googleKey(3), () => replies.googleOverloaded())
    .on(openaiKey(1), () => replies.openaiInvalidKey())
    .on(openaiKey(2), () => replies.openaiInsufficientQuota())
    .on(anthropicKey(1), () => replies.gatewayUnauthorized())

  // Every kind of event that logs: cooldowns, blocks, transient errors, exhaustion, gateway errors, bad input.
  const calls: Promise<Response>[] = []
  for (let i = 0; i < 6; i++) calls.push(h.fetch(GEMINI_PATH, googleInit()))
  for (let i = 0; i < 3; i++) calls.push(h.fetch('/api/openai/chat/completions', openaiInit()))
  calls.push(
    h.fetch('/api/anthropic/v1/messages', {
      method: 'POST',
      headers: { 'x-api-key': AUTH_KEY },
      body: '{"model":"claude-sonnet-4-5"}',
    }),
    h.fetch(`${GEMINI_PATH}?key=${AUTH_KEY}`, { method: 'POST', body: '{}' }),
    h.fetch(GEMINI_PATH, { method: 'POST', headers: { 'x-goog-api-key': `${AUTH_KEY}x` }, body: '{}' }),
    h.fetch('/admin/api/keys', { headers: adminHeaders() }),
    h.fetch('/admin/api/keys', {
      method: 'POST',
      headers: adminHeaders(),
      body: JSON.stringify({ provider: 'openai', keys: [`${openaiKey(9)} with space`] }),
    }),
  )
  for (const res of await Promise.all(calls)) bodies.push(await res.text())
})
afterAll(() => h.dispose())

test('the traffic produced the events this test is about', () => {
  const events = new Set(h.logs.map((l) => (JSON.parse(l) as { event: string }).event))
  for (const e of ['cooldown_set', 'key_blocked', 'upstream_transient', 'gateway_error'])
    expect(events).toContain(e)
})

test('no log line contains a provider key or AUTH_KEY', () => {
  expect(h.logs.length).toBeGreaterThan(5)
  for (const line of h.logs) {
    for (const secret of [...providerKeys, openaiKey(9), AUTH_KEY]) expect(line).not.toContain(secret)
  }
})

test('no response body contains a provider key or AUTH_KEY', () => {
  for (const body of bodies) {
    for (const secret of [...providerKeys, openaiKey(9), AUTH_KEY]) expect(body).not.toContain(secret)
  }
})

test('AUTH_KEY never reached the gateway, and every provider key went in its own header', () => {
  expect(h.gateway.requests.length).toBeGreaterThan(5)
  expect(h.gateway.violations).toEqual([])
  report('secrets', {
    logLines: h.logs.length,
    responseBodies: bodies.length,
    upstreamRequests: h.gateway.requests.length,
    leaks: h.gateway.violations.length,
  })
})
