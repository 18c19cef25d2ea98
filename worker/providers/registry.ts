import { anthropic } from './anthropic'
import { bearer } from './common'
import { google } from './google'
import { openAiStyle } from './openai-style'
import { PROVIDER_IDS, type ProviderAdapter, type ProviderId } from './types'

const joinSegments = (segments: string[]) => segments.map((s) => decodeURIComponent(s)).join('/')

/**
 * Every provider keyrelay can rotate keys for. Adding one is an entry here (and, if it has its own
 * error format, one adapter file); nothing else in the Worker branches on a provider id.
 * Slugs and auth headers follow AI Gateway's URL layout (shared/reference/ai-gateway.md).
 */
export const PROVIDERS = {
  'google-ai-studio': google,
  // OpenAI ends every chat stream with `[DONE]`; other OpenAI-style providers are not relied on to.
  openai: openAiStyle({ embeddingsPath: 'embeddings', modelsPath: 'models', streamEnd: /data: \[DONE\]/ }),
  anthropic,
  // `{resource}/{deployment}/chat/completions?api-version=…`: the deployment is the model.
  'azure-openai': openAiStyle({
    authHeader: 'api-key',
    formatAuth: (key) => key,
    modelFromPath: (rest) => (rest.length > 2 && rest[1] ? decodeURIComponent(rest[1]) : undefined),
  }),
  groq: openAiStyle({ modelsPath: 'models' }),
  mistral: openAiStyle({ embeddingsPath: 'v1/embeddings', modelsPath: 'v1/models' }),
  deepseek: openAiStyle({ modelsPath: 'models' }),
  openrouter: openAiStyle({ modelsPath: 'models' }),
  grok: openAiStyle({ modelsPath: 'v1/models' }),
  cerebras: openAiStyle({ modelsPath: 'models' }),
  'perplexity-ai': openAiStyle(),
  cohere: openAiStyle({ probe: { path: 'v1/models' } }),
  elevenlabs: openAiStyle({
    authHeader: 'xi-api-key',
    formatAuth: (key) => key,
    bodyModelField: 'model_id',
    probe: { path: 'v1/models' },
  }),
  cartesia: openAiStyle({
    authHeader: 'x-api-key',
    formatAuth: (key) => key,
    bodyModelField: 'model_id',
    probe: { path: 'voices', headers: { 'cartesia-version': '2024-06-10' } },
  }),
  // `@cf/meta/llama-3.1-8b-instruct`: the model is the path itself (unless it is the OpenAI-style route).
  'workers-ai': openAiStyle({
    modelFromPath: (rest) => (rest[0]?.startsWith('@') ? joinSegments(rest) : undefined),
  }),
  // `{org}/{model}`
  huggingface: openAiStyle({
    formatAuth: bearer,
    modelFromPath: (rest) => (rest.length >= 2 ? joinSegments(rest.slice(0, 2)) : undefined),
  }),
  // `models/{owner}/{name}/predictions`, or `predictions` with a `version` in the body.
  replicate: openAiStyle({
    modelFromPath: (rest) =>
      rest[0] === 'models' && rest.length >= 3 ? joinSegments(rest.slice(1, 3)) : undefined,
    bodyModelField: 'version',
    probe: { path: 'account' },
  }),
} satisfies Record<ProviderId, ProviderAdapter>

/** A provider's probe: its own, or else its model list. */
export function probeOf(adapter: ProviderAdapter): ProviderAdapter['probe'] {
  if (adapter.probe) return adapter.probe
  return adapter.modelsPath ? { path: adapter.modelsPath, headers: adapter.modelsHeaders } : undefined
}

export function isProviderId(value: string): value is ProviderId {
  return (PROVIDER_IDS as readonly string[]).includes(value)
}

export function adapterFor(id: ProviderId): ProviderAdapter {
  return PROVIDERS[id]
}

/** Every header in which some provider carries a credential: none of them is forwarded as the client sent it. */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  ...Object.values(PROVIDERS).map((a) => a.authHeader.toLowerCase()),
])
