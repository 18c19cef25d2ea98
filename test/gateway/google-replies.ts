/**
 * Google AI Studio's native API as the stand-in answers it (ai.google.dev/api): generateContent and
 * its stream, function calls when tools are offered, JSON when a schema is asked for, countTokens,
 * embedContent / batchEmbedContents with one vector per input, and the native model list.
 */
import { replies } from './replies'
import { sampleOf } from './schema-sample'

type Json = Record<string, unknown>

export const GOOGLE_MODELS = [
  'gemini-2.5-flash',
  'gemini-2.5-pro',
  'gemini-2.0-flash',
  'gemini-embedding-001',
]

const usageMetadata = { promptTokenCount: 4, candidatesTokenCount: 4, totalTokenCount: 8 }

interface Part {
  text?: string
  functionCall?: { name: string; args: unknown }
  functionResponse?: unknown
}

/** The model's turn: a function call while tools are offered and none has answered, else JSON or text. */
function answerParts(body: Json, text: string): Part[] {
  const contents = (Array.isArray(body.contents) ? body.contents : []) as { parts?: Part[] }[]
  const answered = contents.at(-1)?.parts?.some((p) => p && typeof p === 'object' && 'functionResponse' in p)
  const tools = (Array.isArray(body.tools) ? body.tools : []) as {
    functionDeclarations?: { name?: string; parameters?: unknown; parametersJsonSchema?: unknown }[]
  }[]
  const declared = tools.flatMap((t) => t?.functionDeclarations ?? [])[0]
  if (declared?.name && !answered) {
    const args = sampleOf(declared.parametersJsonSchema ?? declared.parameters)
    return [{ functionCall: { name: declared.name, args } }]
  }
  const config = (body.generationConfig ?? {}) as Json
  if (config.responseMimeType === 'application/json') {
    const schema = config.responseJsonSchema ?? config.responseSchema
    return [{ text: JSON.stringify(schema ? sampleOf(schema) : { answer: text }) }]
  }
  return [{ text: answered ? `The tool said: ${JSON.stringify(answered)}` : text }]
}

export function generateContent(body: Json, text: string, model: string): Response {
  const parts = answerParts(body, text)
  return Response.json({
    candidates: [{ content: { parts, role: 'model' }, finishReason: 'STOP', index: 0 }],
    usageMetadata,
    modelVersion: model,
  })
}

/** `alt=sse`: one event per chunk; without it Google streams a JSON array of the same objects. */
export function streamGenerateContent(body: Json, text: string, sse: boolean): Response {
  const parts = answerParts(body, text)
  const events =
    parts[0]?.text !== undefined && parts.length === 1 && !parts[0].text.startsWith('{')
      ? splitText(parts[0].text).map((t, i, all) => chunk([{ text: t }], i === all.length - 1))
      : [chunk(parts, true)]
  if (sse) return replies.sse(events.map((e) => `data: ${JSON.stringify(e)}\r\n\r\n`))
  return Response.json(events)
}

function chunk(parts: Part[], last: boolean): Json {
  return {
    candidates: [{ content: { parts, role: 'model' }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) }],
    ...(last ? { usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 2, totalTokenCount: 6 } } : {}),
  }
}

/** `Hello from Gemini` → `Hello `, `from `, `Gemini`: a stream in a few pieces, as the model writes it. */
function splitText(text: string): string[] {
  const words = text.split(/(?<= )/)
  return words.length > 2 ? [words.slice(0, -2).join(''), ...words.slice(-2)] : words
}

export function countTokens(body: Json): Response {
  const text = JSON.stringify(body.contents ?? body.generateContentRequest ?? '')
  return Response.json({ totalTokens: Math.max(1, Math.ceil(text.length / 4)) })
}

const VECTOR = [0.0123, -0.0456, 0.0789]

export const embedContent = () => Response.json({ embedding: { values: VECTOR } })

export function batchEmbedContents(body: Json): Response {
  const requests = Array.isArray(body.requests) ? body.requests : []
  return Response.json({ embeddings: requests.map(() => ({ values: VECTOR })) })
}

const modelInfo = (id: string) => ({
  name: `models/${id}`,
  version: '001',
  displayName: id,
  inputTokenLimit: 1_048_576,
  outputTokenLimit: 65_536,
  supportedGenerationMethods: id.includes('embedding')
    ? ['embedContent', 'batchEmbedContents', 'countTokens']
    : ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'],
})

export const nativeModels = () => Response.json({ models: GOOGLE_MODELS.map(modelInfo) })

export const nativeModel = (id: string) =>
  GOOGLE_MODELS.includes(id) ? Response.json(modelInfo(id)) : notFound(`models/${id} is not found`)

export const notFound = (message = 'Requested entity was not found.') =>
  new Response(JSON.stringify({ error: { code: 404, message, status: 'NOT_FOUND' } }, null, 2), {
    status: 404,
    headers: { 'content-type': 'application/json; charset=UTF-8' },
  })
