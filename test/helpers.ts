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
