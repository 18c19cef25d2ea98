import { afterAll, beforeAll, expect, test } from 'vitest'
import { geminiEvent, replies } from './gateway/replies'
import { AUTH_KEY, startWorker, type Harness } from './harness'
import { googleKey } from './helpers'

let h: Harness
beforeAll(async () => {
  h = await startWorker()
})
afterAll(() => h.dispose())

const STREAM_PATH = '/api/google-ai-studio/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse'

function deferred() {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

test('SSE events reach the client while upstream is still streaming, unchanged and in order', async () => {
  const [rateLimited, streaming] = [googleKey(1), googleKey(2)]
  await h.addKeys('google-ai-studio', [rateLimited, streaming])
  const gates = [deferred(), deferred(), deferred()]
  const events = [geminiEvent('Once '), geminiEvent('upon '), geminiEvent('a time', true)]
  // The first key answers 429 before streaming: the decision is taken on the status, then the next key streams.
  h.gateway.on(rateLimited, () => replies.googleMinute429())
  h.gateway.on(streaming, () =>
    replies.sse(events, [Promise.resolve(), gates[1]!.promise, gates[2]!.promise]),
  )

  const res = await h.fetch(STREAM_PATH, {
    method: 'POST',
    headers: { 'x-goog-api-key': AUTH_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ contents: [{ parts: [{ text: 'story' }] }] }),
  })
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('text/event-stream')
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let received = ''
  const readUntil = async (needle: string) => {
    while (!received.includes(needle)) {
      const { value, done } = await reader.read()
      if (done) throw new Error(`stream ended before ${JSON.stringify(needle)}`)
      received += decoder.decode(value, { stream: true })
    }
  }
  // Upstream has sent only the first event and is blocked: the client must already have it.
  await readUntil('Once ')
  expect(received).toBe(events[0])
  gates[1]!.resolve()
  await readUntil('upon ')
  expect(received).toBe(events[0]! + events[1]!)
  gates[2]!.resolve()
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    received += decoder.decode(value, { stream: true })
  }
  expect(received).toBe(events.join(''))
  expect(h.gateway.requests.map((r) => r.key)).toContain(streaming)
})
