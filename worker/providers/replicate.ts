import { joinSegments } from './common'
import { openAiStyle } from './openai-style'
import type { ProviderAdapter } from './types'

/** `models/{owner}/{name}/predictions` names the model; plain `predictions` has a `version` in the body. */
export function replicateModel(rest: string[]): string | undefined {
  return rest[0] === 'models' && rest.length >= 3 ? joinSegments(rest.slice(1, 3)) : undefined
}

export const replicate: ProviderAdapter = openAiStyle({
  modelFromPath: replicateModel,
  bodyModelField: 'version',
  // Replicate has no model list endpoint that answers fast; its account endpoint proves a token.
  probe: { path: 'account' },
  keyShape: { pattern: /^r8_[A-Za-z0-9]{20,}$/, looksLike: 'r8_…' },
})
