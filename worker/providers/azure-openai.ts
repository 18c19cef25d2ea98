import { openAiStyle } from './openai-style'
import type { ProviderAdapter } from './types'

/**
 * Through the gateway Azure's path is `{resource}/{deployment}/<operation>?api-version=…`; the
 * deployment is what a request runs on, so it is the model (and the cooldown scope).
 */
export function azureDeployment(rest: string[]): string | undefined {
  return rest.length > 2 && rest[1] ? decodeURIComponent(rest[1]) : undefined
}

export const azureOpenAi: ProviderAdapter = openAiStyle({
  authHeader: 'api-key',
  formatAuth: (key) => key,
  modelFromPath: azureDeployment,
})
