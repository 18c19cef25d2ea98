import { joinSegments } from './common'
import { openAiStyle } from './openai-style'
import type { ProviderAdapter } from './types'

/** `{org}/{model}`, as Hugging Face's inference API names a model. */
export function huggingFaceModel(rest: string[]): string | undefined {
  return rest.length >= 2 ? joinSegments(rest.slice(0, 2)) : undefined
}

export const huggingFace: ProviderAdapter = openAiStyle({
  modelFromPath: huggingFaceModel,
  keyShape: { pattern: /^hf_[A-Za-z0-9]{20,}$/, looksLike: 'hf_…' },
})
