import { afterEach, describe, expect, test, vi } from 'vitest'
import { PROVIDERS } from '../providers/registry'
import { callUpstream } from './upstream'
import { upstreamConfig } from './upstream-config.fixture'

const config = upstreamConfig
const call = {
  adapter: PROVIDERS.openai,
  url: 'http://gateway.test/openai/chat/completions',
  method: 'POST',
  headers: new Headers(),
  body: null,
}
const key = { id: 1, key: 'sk-test-0000000000000001', attempt: 1 }

afterEach(() => vi.unstubAllGlobals())

describe('callUpstream', () => {
  test('an interim 1xx answer is no answer (a Response cannot be built from one)', async () => {
    vi.stubGlobal(
      'fetch',
      async () => ({ status: 100, headers: new Headers(), body: null }) as unknown as Response,
    )
    expect(await callUpstream(config, call, key)).toEqual({
      kind: 'unreachable',
      error: 'interim status 100',
    })
  })

  test('an error body that breaks off while read is no answer, not a verdict on the key', async () => {
    const res = new Response(
      new ReadableStream({
        pull: (c) => c.error(new Error('connection reset')),
      }),
      { status: 429 },
    )
    vi.stubGlobal('fetch', async () => res)
    const answer = await callUpstream(config, call, key)
    expect(answer.kind).toBe('unreachable')
  })

  test("sets the key, keyrelay's gateway controls and its metadata on the call", async () => {
    let sent: Headers | undefined
    vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
      sent = new Headers(init.headers)
      return new Response('{}', { status: 200 })
    })
    await callUpstream(config, { ...call, metadata: { user: 'ada' } }, key)
    expect(sent?.get('authorization')).toBe('Bearer sk-test-0000000000000001')
    expect(sent?.get('cf-aig-max-attempts')).toBe('1')
    expect(sent?.get('cf-aig-no-wholesale')).toBe('true')
    expect(JSON.parse(sent?.get('cf-aig-metadata') ?? '')).toEqual({
      user: 'ada',
      keyrelay_key: 1,
      keyrelay_attempt: 1,
    })
  })
})
