import { request as httpRequest } from 'node:http'
import { AUTH_KEY } from './harness'

export const GEMINI_PATH = '/api/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent'
export const geminiBody = JSON.stringify({ contents: [{ parts: [{ text: 'Hello' }] }] })
export const chatBody = (model = 'gpt-4o-mini') =>
  JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello' }] })

export const googleInit = (extra: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'x-goog-api-key': AUTH_KEY, 'content-type': 'application/json', ...extra },
  body: geminiBody,
})

export const openaiInit = (model?: string, extra: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { authorization: `Bearer ${AUTH_KEY}`, 'content-type': 'application/json', ...extra },
  body: chatBody(model),
})

export const adminHeaders = (key = AUTH_KEY) => ({
  authorization: `Bearer ${key}`,
  'content-type': 'application/json',
})

/** Parses keyrelay's own error body and returns its stable code. */
export async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { error?: { code?: string } }
  return body.error?.code ?? '(no code)'
}

/** Google-style fake keys (the shape AI Studio issues) that differ in their tail. */
export const googleKey = (n: number) => `AIzaSyFAKE-keyrelay-test-${String(n).padStart(8, '0')}`
export const openaiKey = (n: number) => `sk-proj-FAKE-keyrelay-${String(n).padStart(8, '0')}`
export const anthropicKey = (n: number) => `sk-ant-api03-FAKE-keyrelay-${String(n).padStart(8, '0')}`

/**
 * An HTTP request over a plain socket, for what `fetch` will not send: methods such as TRACE and
 * CONNECT, or a `Connection` header of the caller's own.
 */
export function rawRequest(
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method, headers: init.headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

let serial = 0
/**
 * `count` keys made by `make`, each with a number no earlier call in this test file used, so keys
 * (and the pool views that remember them) from earlier tests never interfere.
 */
export const freshKeys = (make: (n: number) => string, count: number): string[] =>
  Array.from({ length: count }, () => make(++serial))
export const openrouterKey = (n: number) => `sk-or-v1-FAKE-keyrelay-${String(n).padStart(8, '0')}`
