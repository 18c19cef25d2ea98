import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { replies } from './gateway/replies'
import { AUTH_KEY, startWorker, type Harness } from './harness'
import { GEMINI_PATH, googleInit, googleKey } from './helpers'

// A conversation stays on one pool key (issue 26 part 2), in every isolate, with no state shared:
// the stand-in reports which key served each request.
const KEYS = Array.from({ length: 10 }, (_, i) => googleKey(i + 1))
let a: Harness
let b: Harness

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyrelay-affinity-'))
  a = await startWorker({ d1Persist: dir })
  b = await startWorker({ d1Persist: dir, applyMigrations: false })
  await a.addKeys('google-ai-studio', KEYS)
})
afterAll(async () => {
  await a.dispose()
  await b.dispose()
})
beforeEach(() => {
  a.gateway.reset()
  b.gateway.reset()
})

/** Sends a Gemini call in conversation `id` to `h`; answers the key that served it. */
async function servedBy(h: Harness, id: string | undefined): Promise<string> {
  const res = await h.fetch(GEMINI_PATH, googleInit(id ? { 'x-session-id': id } : {}))
  expect(res.status).toBe(200)
  return h.gateway.requests.at(-1)!.key!
}

describe('a conversation stays on one key', () => {
  test('in one isolate and in another, while the key serves; conversations spread over the pool', async () => {
    const first = new Map<string, string>()
    for (let c = 0; c < 20; c++) {
      const id = `conv-${c}`
      const key = await servedBy(a, id)
      first.set(id, key)
      for (let i = 0; i < 3; i++) expect(await servedBy(a, id)).toBe(key)
      // Another isolate, which never saw it, sends it to the same key.
      expect(await servedBy(b, id)).toBe(key)
    }
    expect(new Set(first.values()).size).toBeGreaterThanOrEqual(5)
  })

  test('when its key cannot serve, it moves to another and stays there; others do not move', async () => {
    const held = await servedBy(a, 'moving')
    const other = ['still-0', 'still-1', 'still-2', 'still-3', 'still-4', 'still-5']
    const before = new Map<string, string>()
    for (const id of other) before.set(id, await servedBy(a, id))
    a.gateway.on(held, () => replies.googleMinute429())
    const moved = await servedBy(a, 'moving')
    expect(moved).not.toBe(held)
    for (let i = 0; i < 3; i++) expect(await servedBy(a, 'moving')).toBe(moved)
    for (const id of other) {
      const key = await servedBy(a, id)
      if (before.get(id) !== held) expect(key).toBe(before.get(id))
    }
  })

  test('from a compat body: prompt_cache_key, and the user field (openai SDK)', async () => {
    const openai = new OpenAI({ apiKey: AUTH_KEY, baseURL: `${a.url}/api/compat`, maxRetries: 0 })
    const ask = (extra: object) =>
      openai.chat.completions.create({
        model: 'google-ai-studio/gemini-2.5-flash',
        messages: [{ role: 'user', content: 'Hi' }],
        ...extra,
      })
    for (const extra of [{ prompt_cache_key: 'cache-7' }, { user: 'user-42' }]) {
      await ask(extra)
      const key = a.gateway.requests.at(-1)!.key
      for (let i = 0; i < 3; i++) {
        await ask(extra)
        expect(a.gateway.requests.at(-1)!.key).toBe(key)
      }
    }
  })

  test("Claude Code's session in metadata.user_id, on the Messages dialect (@anthropic-ai/sdk)", async () => {
    const claude = new Anthropic({ apiKey: AUTH_KEY, baseURL: `${a.url}/api/compat`, maxRetries: 0 })
    const ask = () =>
      claude.messages.create({
        model: 'google-ai-studio/gemini-2.5-flash',
        max_tokens: 16,
        metadata: { user_id: 'user_abc_account__session_5f2c' },
        messages: [{ role: 'user', content: 'Hi' }],
      })
    await ask()
    const key = a.gateway.requests.at(-1)!.key
    for (let i = 0; i < 3; i++) {
      await ask()
      expect(a.gateway.requests.at(-1)!.key).toBe(key)
    }
  })

  test('without a conversation, requests rotate over the keys as before', async () => {
    const seen = new Set<string>()
    for (let i = 0; i < 10; i++) seen.add(await servedBy(a, undefined))
    expect(seen.size).toBeGreaterThanOrEqual(8)
  })
})

describe('SESSION_TTL_SECONDS=0', () => {
  test('turns it off: one conversation rotates like any request', async () => {
    const h = await startWorker({ vars: { SESSION_TTL_SECONDS: '0' } })
    try {
      await h.addKeys('google-ai-studio', KEYS)
      const seen = new Set<string>()
      for (let i = 0; i < 10; i++) seen.add(await servedBy(h, 'conv-off'))
      expect(seen.size).toBeGreaterThanOrEqual(8)
    } finally {
      await h.dispose()
    }
  })
})
