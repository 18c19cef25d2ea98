import { joinSegments } from './common'
import { openAiStyle } from './openai-style'
import type { ProviderAdapter } from './types'

/**
 * `@cf/meta/llama-3.1-8b-instruct`: the path is the model. Workers AI's OpenAI-style routes
 * (`v1/chat/completions`) carry it in the body instead.
 */
export function workersAiModel(rest: string[]): string | undefined {
  return rest[0]?.startsWith('@') ? joinSegments(rest) : undefined
}

export const workersAi: ProviderAdapter = openAiStyle({ modelFromPath: workersAiModel })
