import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { replies } from './gateway/replies'
import { AUTH_KEY, startWorker, type Harness } from './harness'
import { adminHeaders, errorCode, googleKey, openaiKey } from './helpers'

// Model aliases with fallback chains (issue 26 part 1): a name clients use as their model, tried
// target by target when one cannot serve, never on the caller's own 4xx.
let h: Harness
const GOOGLE = [googleKey(1), googleKey(2)]

const admin = (method: string, path: string, body?: unknown) =>
  h.fetch(`/admin/api${path}`, {
    method,
    headers: adminHeaders(),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
const openai = (apiKey = AUTH_KEY) => new OpenAI({ apiKey, baseURL: `${h.url}/api/compat`, maxRetries: 0 })
const chat = (model: string, apiKey?: string) =>
  openai(apiKey)
    .chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] })
    .withResponse()
const providersCalled = () => h.gateway.requests.map((r) => r.key)

beforeAll(async () => {
  h = await startWorker()
  await h.addKeys('google-ai-studio', GOOGLE)
  await h.addKeys('openai', [openaiKey(1)])
  const made = await admin('POST', '/routes', {
    name: 'best',
    targets: ['google-ai-studio/gemini-2.5-pro', 'openai/gpt-4o-mini'],
  })
  expect(made.status).toBe(201)
})
afterAll(() => h.dispose())
beforeEach(() => h.gateway.reset())

describe('the admin API', () => {
  test('create, list, change and delete; each refusal with its code, nothing stored', async () => {
    expect((await admin('POST', '/routes', { name: 'fast', targets: ['openai/gpt-4o-mini'] })).status).toBe(
      201,
    )
    const refusals: [unknown, number, string][] = [
      [{ name: 'fast', targets: ['openai/gpt-4o'] }, 409, 'route_exists'],
      [{ name: 'openai/x', targets: ['openai/gpt-4o'] }, 400, 'invalid_route_name'],
      [{ name: 'ok', targets: ['gpt-4o'] }, 400, 'invalid_target'],
      [{ name: 'ok', targets: ['nope/gpt-4o'] }, 400, 'invalid_target'],
      [{ name: 'ok', targets: ['openai/a', 'openai/a'] }, 400, 'invalid_target'],
      [{ name: 'ok', targets: [] }, 400, 'invalid_body'],
    ]
    for (const [body, status, code] of refusals) {
      const res = await admin('POST', '/routes', body)
      expect(res.status, JSON.stringify(body)).toBe(status)
      expect(await errorCode(res)).toBe(code)
    }
    const patched = await admin('PATCH', '/routes/fast', {
      targets: ['openai/gpt-4.1-mini', 'openai/gpt-4o-mini'],
    })
    expect(patched.status).toBe(200)
    const { routes } = (await (await admin('GET', '/routes')).json()) as {
      routes: { name: string; targets: string[] }[]
    }
    expect(routes.map((r) => r.name)).toEqual(['best', 'fast'])
    expect(routes[1]?.targets).toEqual(['openai/gpt-4.1-mini', 'openai/gpt-4o-mini'])
    expect((await admin('DELETE', '/routes/fast')).status).toBe(200)
    expect(await errorCode(await admin('DELETE', '/routes/fast'))).toBe('route_not_found')
    // Gone at once in this isolate: the name is no model any more.
    const gone = await chat('fast').catch((e: unknown) => e)
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError)
  })
})

describe('an alias as the model', () => {
  test('served by its first target, saying so; listed in /models', async () => {
    const { data, response } = await chat('best')
    expect(data.choices[0]?.message.content).toBeTruthy()
    expect(response.headers.get('x-keyrelay-route')).toBe('google-ai-studio/gemini-2.5-pro')
    expect(JSON.parse(h.gateway.requests.at(-1)!.body).model).toBe('google-ai-studio/gemini-2.5-pro')
    // A browser app may read which target served.
    const fromPage = await h.fetch('/api/compat/chat/completions', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${AUTH_KEY}`,
        'content-type': 'application/json',
        origin: 'https://app.example',
      },
      body: JSON.stringify({ model: 'best', messages: [{ role: 'user', content: 'Hi' }] }),
    })
    expect(fromPage.headers.get('access-control-expose-headers')).toContain('x-keyrelay-route')
    const models = await openai().models.list()
    expect(models.data.map((m) => m.id)).toContain('best')
  })

  test('every key of a target limited: the next target serves, and goes on serving while it cools', async () => {
    for (const k of GOOGLE) h.gateway.on(k, () => replies.openaiRateLimit({ 'retry-after': '60' }))
    const first = await chat('best')
    expect(first.response.headers.get('x-keyrelay-route')).toBe('openai/gpt-4o-mini')
    expect(providersCalled()).toEqual(expect.arrayContaining([...GOOGLE, openaiKey(1)]))
    h.gateway.reset()
    // Now every Google key is cooling for the model: no Google call at all, straight to the next.
    const second = await chat('best')
    expect(second.response.headers.get('x-keyrelay-route')).toBe('openai/gpt-4o-mini')
    expect(providersCalled()).toEqual([openaiKey(1)])
  })

  test('the caller’s own 4xx is answered, never taken to the next target', async () => {
    const h2 = await startWorker()
    try {
      await h2.addKeys('google-ai-studio', GOOGLE)
      await h2.addKeys('openai', [openaiKey(1)])
      await h2.fetch('/admin/api/routes', {
        method: 'POST',
        headers: adminHeaders(),
        body: JSON.stringify({
          name: 'best',
          targets: ['google-ai-studio/gemini-2.5-pro', 'openai/gpt-4o-mini'],
        }),
      })
      for (const k of GOOGLE) h2.gateway.on(k, () => replies.googleBadRequest())
      const res = await h2.fetch('/api/compat/chat/completions', {
        method: 'POST',
        headers: { authorization: `Bearer ${AUTH_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'best', messages: [{ role: 'user', content: 'Hi' }] }),
      })
      expect(res.status).toBe(400)
      expect(h2.gateway.requests.map((r) => r.key)).not.toContain(openaiKey(1))
    } finally {
      await h2.dispose()
    }
  })

  test('a stream in the client’s dialect, from a translated target (@anthropic-ai/sdk)', async () => {
    // Google cooling since the test before: the Messages call is served by OpenAI, translated.
    const claude = new Anthropic({ apiKey: AUTH_KEY, baseURL: `${h.url}/api/compat`, maxRetries: 0 })
    const stream = claude.messages.stream({
      model: 'best',
      max_tokens: 32,
      messages: [{ role: 'user', content: 'Hi' }],
    })
    const { response } = await stream.withResponse()
    const message = await stream.finalMessage()
    expect(response.headers.get('x-keyrelay-route')).toBe('openai/gpt-4o-mini')
    expect(message.content[0]).toMatchObject({ type: 'text' })
    expect(providersCalled()).toEqual([openaiKey(1)])
  })

  test('a client key’s restrictions hold for each target, not for the alias’s name', async () => {
    const googleOnly = await h.issueClient({ name: 'google only', allow: 'google-ai-studio' })
    // Google is cooling, and the client may not use OpenAI: it gets Google's answer, OpenAI is not called.
    const refused = await chat('best', googleOnly.key).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError)
    expect(providersCalled()).not.toContain(openaiKey(1))
    const groqOnly = await h.issueClient({ name: 'groq only', allow: 'groq' })
    const none = await chat('best', groqOnly.key).catch((e: unknown) => e)
    expect(none).toBeInstanceOf(OpenAI.PermissionDeniedError)
    expect((none as InstanceType<typeof OpenAI.PermissionDeniedError>).code).toBe('auth_key_forbidden')
    const listed = await openai(groqOnly.key).models.list()
    expect(listed.data.map((m) => m.id)).not.toContain('best')
  })
})

describe('across isolates', () => {
  test('an alias made on one isolate reaches another within POOL_REFRESH_SECONDS', async () => {
    const { mkdtempSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const dir = mkdtempSync(join(tmpdir(), 'keyrelay-aliases-'))
    const vars = { POOL_REFRESH_SECONDS: '1' }
    const a = await startWorker({ d1Persist: dir, vars })
    const b = await startWorker({ d1Persist: dir, vars, applyMigrations: false })
    try {
      await a.addKeys('openai', [openaiKey(1)])
      const ask = (w: Harness) =>
        w.fetch('/api/compat/chat/completions', {
          method: 'POST',
          headers: { authorization: `Bearer ${AUTH_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'cheap', messages: [{ role: 'user', content: 'Hi' }] }),
        })
      expect((await ask(b)).status).toBe(404) // b's view is now warm, without the alias
      const made = Date.now()
      await a.fetch('/admin/api/routes', {
        method: 'POST',
        headers: adminHeaders(),
        body: JSON.stringify({ name: 'cheap', targets: ['openai/gpt-4o-mini'] }),
      })
      let res = await ask(b)
      while (res.status === 404 && Date.now() - made < 3000) {
        await new Promise((r) => setTimeout(r, 100))
        res = await ask(b)
      }
      expect(res.status).toBe(200)
      expect(Date.now() - made).toBeLessThanOrEqual(1000 + 500)
    } finally {
      await a.dispose()
      await b.dispose()
    }
  })
})
