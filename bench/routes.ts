/** The routes the benchmark and the profile measure: the ones people use most. */
export interface BenchRoute {
  name: string
  path: string
  init(auth: string): RequestInit
}

const json = (auth: string, header: string, body: object): RequestInit => ({
  method: 'POST',
  headers: {
    [header]: header === 'authorization' ? `Bearer ${auth}` : auth,
    'content-type': 'application/json',
  },
  body: JSON.stringify(body),
})

export const ROUTES: BenchRoute[] = [
  {
    name: 'native',
    path: '/api/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent',
    init: (auth) => json(auth, 'x-goog-api-key', { contents: [{ parts: [{ text: 'Hello' }] }] }),
  },
  {
    name: 'compat-chat',
    path: '/api/compat/chat/completions',
    init: (auth) =>
      json(auth, 'authorization', {
        model: 'google-ai-studio/gemini-2.5-flash',
        messages: [{ role: 'user', content: 'Hello' }],
      }),
  },
  {
    // What OpenAI SDK clients mostly send: a stream without include_usage (keyrelay asks for it and
    // drops the chunk again).
    name: 'compat-chat-stream',
    path: '/api/compat/chat/completions',
    init: (auth) =>
      json(auth, 'authorization', {
        model: 'google-ai-studio/gemini-2.5-flash',
        messages: [{ role: 'user', content: 'Hello' }],
        stream: true,
      }),
  },
  {
    name: 'responses-stream',
    path: '/api/compat/responses',
    init: (auth) =>
      json(auth, 'authorization', {
        model: 'google-ai-studio/gemini-2.5-flash',
        input: 'Hello',
        stream: true,
      }),
  },
]
