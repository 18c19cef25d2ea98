import { bearer } from '../providers/common'
import { openAiStreamError } from '../providers/openai-style'
import { PROVIDERS } from '../providers/registry'
import type { ProviderAdapter, ProviderId } from '../providers/types'

/** The unified endpoint: every provider's key as a Bearer token, and OpenAI's stream format. */
export const bearerAdapterFor = (provider: ProviderId): ProviderAdapter => ({
  ...PROVIDERS[provider],
  authHeader: 'authorization',
  formatAuth: bearer,
  streamError: openAiStreamError,
  // The unified endpoint speaks OpenAI's stream format for every provider, ending with [DONE].
  streamEnd: /data: \[DONE\]/,
})
