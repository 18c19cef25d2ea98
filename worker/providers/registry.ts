import { anthropic } from './anthropic'
import { azureOpenAi } from './azure-openai'
import { google } from './google'
import { huggingFace } from './huggingface'
import { openAiStyle } from './openai-style'
import { replicate } from './replicate'
import { PROVIDER_IDS, type ProviderAdapter, type ProviderId } from './types'
import { workersAi } from './workers-ai'

/**
 * Every provider keyrelay can rotate keys for; nothing else in the Worker branches on a provider id.
 * Slugs and auth headers follow AI Gateway's URL layout
 * (https://developers.cloudflare.com/ai-gateway/usage/providers/). Adding a provider takes:
 * - its slug in `PROVIDER_IDS` (types.ts);
 * - an entry here: `openAiStyle({...})` when it copies OpenAI's API and errors, otherwise its own
 *   adapter file beside this one (like google.ts), with a `.test.ts` next to it for how it reads
 *   models from paths and classifies errors, on real bodies;
 * - the real error bodies in test/gateway/fixtures.ts, and its key header in
 *   test/gateway/mock-gateway.ts if it is not `Authorization: Bearer`;
 * - a row in the README's provider table.
 */
export const PROVIDERS = {
  'google-ai-studio': google,
  // OpenAI ends every chat stream with `[DONE]`, every Responses stream with a final response event;
  // other OpenAI-style providers are not relied on to.
  openai: openAiStyle({
    // sk-… (sk-proj-… for project keys), but not Anthropic's or OpenRouter's sk-ant-, sk-or-.
    keyShape: { pattern: /^sk-(?!ant-|or-)[A-Za-z0-9_-]{20,}$/, looksLike: 'sk-… or sk-proj-…' },
    embeddingsPath: 'embeddings',
    modelsPath: 'models',
    responsesPath: 'responses',
    streamEnd: /data: \[DONE\]|"type":"response\.(completed|incomplete|failed)"/,
  }),
  anthropic,
  'azure-openai': azureOpenAi,
  groq: openAiStyle({
    modelsPath: 'models',
    keyShape: { pattern: /^gsk_[A-Za-z0-9]{20,}$/, looksLike: 'gsk_…' },
  }),
  mistral: openAiStyle({
    embeddingsPath: 'v1/embeddings',
    modelsPath: 'v1/models',
    keyShape: { pattern: /^[A-Za-z0-9]{32}$/, looksLike: '32 letters and digits' },
  }),
  deepseek: openAiStyle({
    modelsPath: 'models',
    keyShape: { pattern: /^sk-[0-9a-f]{32}$/, looksLike: 'sk- followed by 32 hexadecimal digits' },
  }),
  // OpenRouter lists models to anyone, key or not: only its key endpoint proves a key.
  openrouter: openAiStyle({
    modelsPath: 'models',
    probe: { path: 'key' },
    keyShape: { pattern: /^sk-or-[A-Za-z0-9-]{20,}$/, looksLike: 'sk-or-v1-…' },
  }),
  grok: openAiStyle({
    modelsPath: 'v1/models',
    keyShape: { pattern: /^xai-[A-Za-z0-9]{20,}$/, looksLike: 'xai-…' },
  }),
  cerebras: openAiStyle({
    modelsPath: 'models',
    keyShape: { pattern: /^csk-[A-Za-z0-9]{20,}$/, looksLike: 'csk-…' },
  }),
  'perplexity-ai': openAiStyle({ keyShape: { pattern: /^pplx-[A-Za-z0-9]{20,}$/, looksLike: 'pplx-…' } }),
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
  'workers-ai': workersAi,
  huggingface: huggingFace,
  replicate,
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

/** Providers with an OpenAI-style embeddings endpoint, for the compat route's error message. */
export const EMBEDDING_PROVIDERS: readonly ProviderId[] = PROVIDER_IDS.filter(
  (id) => PROVIDERS[id].embeddingsPath,
)

const adapters: ProviderAdapter[] = Object.values(PROVIDERS)

/** Every header in which some provider carries a credential: none of them is forwarded as the client sent it. */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  ...adapters.map((a) => a.authHeader.toLowerCase()),
])

/**
 * Every header by which a client could make a pool key answer as another account or project
 * (`OpenAI-Organization`, Google's `X-Goog-User-Project`): none is forwarded, to any provider.
 */
export const ACCOUNT_HEADERS: ReadonlySet<string> = new Set(
  adapters.flatMap((a) => (a.accountHeaders ?? []).map((h) => h.toLowerCase())),
)

/**
 * Every query parameter in which some provider carries a credential (Google's `key`): stripped from
 * every request, whichever provider it goes to, so an AUTH_KEY sent that way never travels upstream.
 */
export const QUERY_CREDENTIAL_PARAMS: ReadonlySet<string> = new Set(
  adapters.flatMap((a) => (a.queryKeyParam ? [a.queryKeyParam] : [])),
)
