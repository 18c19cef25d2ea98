/**
 * What the stand-in gateway answers for a key with no special behaviour: each provider's real paths
 * (after the gateway's provider slug) with the real body shapes, and a 404 in the provider's own shape
 * for any other path, as a real account answers. A client that builds a wrong URL (`v1beta/v1beta/…`,
 * `/v1` doubled) fails here as it would in production, instead of passing in the tests and the demo.
 */
import * as anthropic from './anthropic-replies'
import { responsesReply } from './dialects'
import * as google from './google-replies'
import type { SeenRequest } from './mock-gateway'
import * as openai from './openai-replies'

type Json = Record<string, unknown>

interface Call {
  req: SeenRequest
  body: Json
  label: string
  /** The path's capture groups. */
  at: string[]
  query: URLSearchParams
}

type Reply = (call: Call) => Response

/** `GET|POST`, a path pattern (anchored), the reply. */
type Route = [methods: string, path: RegExp, reply: Reply]

/** The models each stand-in account has: any other is a 404 model_not_found, as on a real account. */
const OPENAI_MODELS = ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1', 'gpt-3.5-turbo-instruct', 'text-embedding-3-small']
const KNOWN_MODELS: Record<string, readonly string[]> = {
  openai: OPENAI_MODELS,
  'google-ai-studio': [...google.GOOGLE_MODELS, ...google.GOOGLE_MODELS.map((m) => `models/${m}`)],
}

/** The model a body names does not exist on this provider (for the unified endpoint: `<provider>/<model>`). */
function unknownModel(req: SeenRequest, body: Json): Response | undefined {
  const named = typeof body.model === 'string' ? body.model : undefined
  if (named === undefined) return undefined
  const [provider, model] =
    req.provider === 'compat'
      ? [named.split('/')[0] ?? '', named.slice(named.indexOf('/') + 1)]
      : [req.provider, named]
  const known = KNOWN_MODELS[provider]
  if (!known || known.includes(model)) return undefined
  return openai.modelNotFound(named)
}

const withModel =
  (reply: Reply): Reply =>
  (call) =>
    unknownModel(call.req, call.body) ?? reply(call)

const chat: Reply = withModel(({ body, label }) => openai.chatCompletion(body, label))
const embeddings: Reply = withModel(({ body }) => openai.embeddings(body))
const listOf =
  (...ids: string[]): Reply =>
  ({ req }) =>
    openai.modelList(ids, req.provider)

/** OpenAI's stored objects: listed empty; any one of them asked for is not found. */
const STORED = '(chat/completions|responses|files|batches|vector_stores|assistants|threads|conversations)'

const OPENAI: Route[] = [
  ['POST', /^chat\/completions$/, chat],
  ['POST', /^completions$/, withModel(({ body, label }) => openai.textCompletion(body, label))],
  ['POST', /^embeddings$/, embeddings],
  [
    'POST',
    /^responses$/,
    withModel(({ body, label }) => responsesReply(body, `${label}Hello from ${String(body.model)}`)),
  ],
  ['GET', /^models$/, listOf('gpt-4o-mini', 'gpt-4o', 'gpt-4.1', 'text-embedding-3-small')],
  [
    'GET',
    /^models\/([^/]+)$/,
    ({ at }) => Response.json({ id: at[0], object: 'model', created: 0, owned_by: 'openai' }),
  ],
  [
    'POST',
    /^moderations$/,
    () => Response.json({ id: 'modr-mock', model: 'omni-moderation-latest', results: [{ flagged: false }] }),
  ],
  ['GET', new RegExp(`^${STORED}$`), () => openai.emptyList()],
  [
    'GET|POST|DELETE',
    new RegExp(`^${STORED}/([^/]+)(/[a-z_]+)?$`),
    ({ at }) => openai.noSuchObject(at[0] ?? 'object', at[1] ?? ''),
  ],
]

const GOOGLE_METHOD = /^(v1|v1beta)\/((?:models|tunedModels)\/[^/:]+):([A-Za-z]+)$/

const GOOGLE: Route[] = [
  ['GET', /^(?:v1|v1beta)\/models$/, () => google.nativeModels()],
  ['GET', /^(?:v1|v1beta)\/models\/([^/:]+)$/, ({ at }) => google.nativeModel(at[0] ?? '')],
  ['POST', GOOGLE_METHOD, googleMethod],
  ['POST', /^v1beta\/openai\/chat\/completions$/, chat],
  ['POST', /^v1beta\/openai\/embeddings$/, embeddings],
  ['GET', /^v1beta\/openai\/models$/, listOf(...google.GOOGLE_MODELS.map((m) => `models/${m}`))],
  // Nothing uploaded, nothing cached: Google lists nothing as an empty object.
  ['GET', /^v1beta\/(?:files|cachedContents)$/, () => Response.json({})],
]

function googleMethod({ body, label, at, query }: Call): Response {
  const [, name = '', method] = at
  const model = name.replace(/^models\//, '')
  if (name.startsWith('models/') && !google.GOOGLE_MODELS.includes(model)) {
    return google.notFound(
      `${name} is not found for API version ${at[0]}, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
    )
  }
  const text = `${label}Hello from Gemini`
  switch (method) {
    case 'generateContent':
      return google.generateContent(body, text, model)
    case 'streamGenerateContent':
      return google.streamGenerateContent(body, text, query.get('alt') === 'sse')
    case 'countTokens':
      return google.countTokens(body)
    case 'embedContent':
      return google.embedContent()
    case 'batchEmbedContents':
      return google.batchEmbedContents(body)
    default:
      return google.notFound(
        `${name} is not found for API version ${at[0]}, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
      )
  }
}

const ANTHROPIC: Route[] = [
  ['POST', /^v1\/messages$/, ({ body, label }) => anthropic.messages(body, label)],
  ['POST', /^v1\/messages\/count_tokens$/, ({ body }) => anthropic.countTokens(body)],
  ['GET', /^v1\/models$/, () => anthropic.models()],
  ['GET', /^v1\/models\/([^/]+)$/, ({ at }) => anthropic.model(at[0] ?? '')],
]

/** Workers AI's own answer shape (`@cf/…` run). */
const workersAiRun: Reply = ({ label }) =>
  Response.json({
    result: { response: `${label}Hello from Workers AI` },
    success: true,
    errors: [],
    messages: [],
  })

const ROUTES: Record<string, Route[]> = {
  openai: OPENAI,
  'google-ai-studio': GOOGLE,
  anthropic: ANTHROPIC,
  // AI Gateway's unified endpoint.
  compat: [['POST', /^chat\/completions$/, chat]],
  groq: [
    ['POST', /^chat\/completions$/, chat],
    ['GET', /^models$/, listOf('llama-3.3-70b-versatile', 'llama-3.1-8b-instant')],
  ],
  mistral: [
    ['POST', /^v1\/chat\/completions$/, chat],
    ['POST', /^v1\/fim\/completions$/, chat],
    ['POST', /^v1\/embeddings$/, embeddings],
    ['GET', /^v1\/models$/, listOf('mistral-small-latest', 'mistral-embed')],
  ],
  deepseek: [
    // DeepSeek serves its API with and without /v1.
    ['POST', /^(?:v1\/)?chat\/completions$/, chat],
    ['GET', /^(?:v1\/)?models$/, listOf('deepseek-chat', 'deepseek-reasoner')],
  ],
  openrouter: [
    ['POST', /^chat\/completions$/, chat],
    ['POST', /^completions$/, ({ body, label }) => openai.textCompletion(body, label)],
    ['POST', /^embeddings$/, embeddings],
    ['GET', /^models$/, listOf('openai/gpt-4o-mini', 'google/gemini-2.5-flash')],
    [
      'GET',
      /^key$/,
      () =>
        Response.json({
          data: { label: 'sk-or-v1-au7...890', limit: null, usage: 0.25, is_free_tier: false },
        }),
    ],
  ],
  grok: [
    ['POST', /^v1\/chat\/completions$/, chat],
    ['GET', /^v1\/models$/, listOf('grok-4', 'grok-3-mini')],
  ],
  cerebras: [
    ['POST', /^chat\/completions$/, chat],
    ['GET', /^models$/, listOf('llama3.1-8b')],
  ],
  'perplexity-ai': [['POST', /^chat\/completions$/, chat]],
  cohere: [
    [
      'POST',
      /^v2\/chat$/,
      ({ label }) =>
        Response.json({
          id: 'cohere-mock',
          finish_reason: 'COMPLETE',
          message: { role: 'assistant', content: [{ type: 'text', text: `${label}Hello from Cohere` }] },
          usage: {
            billed_units: { input_tokens: 5, output_tokens: 4 },
            tokens: { input_tokens: 5, output_tokens: 4 },
          },
        }),
    ],
    ['GET', /^v1\/models$/, () => Response.json({ models: [{ name: 'command-a-03-2025' }] })],
  ],
  elevenlabs: [
    [
      'POST',
      /^v1\/text-to-speech\/[^/]+$/,
      () => new Response(new Uint8Array([0xff, 0xf3]), { headers: { 'content-type': 'audio/mpeg' } }),
    ],
    ['GET', /^v1\/models$/, () => Response.json([{ model_id: 'eleven_multilingual_v2' }])],
  ],
  cartesia: [
    [
      'POST',
      /^tts\/bytes$/,
      () => new Response(new Uint8Array([0x52, 0x49]), { headers: { 'content-type': 'audio/wav' } }),
    ],
    ['GET', /^voices$/, () => Response.json([{ id: 'voice-mock', name: 'Mock' }])],
  ],
  'workers-ai': [
    ['POST', /^@cf\/.+$/, workersAiRun],
    ['POST', /^v1\/chat\/completions$/, chat],
    ['POST', /^v1\/embeddings$/, embeddings],
  ],
  huggingface: [
    ['POST', /^[^/]+\/[^/]+$/, ({ label }) => Response.json([{ generated_text: `${label}Hello` }])],
  ],
  replicate: [
    [
      'POST',
      /^(?:models\/[^/]+\/[^/]+\/)?predictions$/,
      () =>
        Response.json(
          {
            id: 'pred-mock',
            status: 'starting',
            urls: { get: 'https://api.replicate.com/v1/predictions/pred-mock' },
          },
          { status: 201 },
        ),
    ],
    ['GET', /^account$/, () => Response.json({ type: 'user', username: 'keyrelay', name: 'keyrelay' })],
  ],
  'azure-openai': [
    ['POST', /^[^/]+\/[^/]+\/chat\/completions$/, chat],
    ['POST', /^[^/]+\/[^/]+\/embeddings$/, embeddings],
  ],
}

function parsedBody(req: SeenRequest): Json {
  try {
    const json: unknown = JSON.parse(req.body)
    // `null`, numbers and arrays are JSON too; a provider reads fields of objects only.
    return json && typeof json === 'object' && !Array.isArray(json) ? (json as Json) : {}
  } catch {
    return {}
  }
}

/** A path the provider does not have, answered in its own shape. */
function notFound(req: SeenRequest): Response {
  if (req.provider === 'google-ai-studio') return google.notFound()
  if (req.provider === 'anthropic') return anthropic.notFound()
  return openai.invalidUrl(req.method, req.path)
}

export function defaultReply(req: SeenRequest, label: string): Response {
  for (const [methods, pattern, reply] of ROUTES[req.provider] ?? []) {
    const match = pattern.exec(req.path)
    if (!match || !methods.split('|').includes(req.method)) continue
    const query = new URL(req.url).searchParams
    return reply({ req, body: parsedBody(req), label, at: match.slice(1), query })
  }
  return notFound(req)
}
