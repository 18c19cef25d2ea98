/**
 * Tokens as an answer reports them. keyrelay relays four wire formats, and each names its usage
 * fields its own way; the field names alone say which one an object is, so one reader serves every
 * provider (a provider's OpenAI-compatible endpoint reports OpenAI's fields, whoever runs it):
 *
 * - OpenAI Chat Completions and embeddings: `usage.prompt_tokens`, `completion_tokens`,
 *   `prompt_tokens_details.cached_tokens` (prompt_tokens includes the cached ones).
 * - OpenAI Responses: `usage.input_tokens` (cached included), `output_tokens`,
 *   `input_tokens_details.cached_tokens`.
 * - Anthropic Messages: `usage.input_tokens` (cached NOT included), `cache_read_input_tokens`,
 *   `cache_creation_input_tokens`, `output_tokens`.
 * - Google generateContent: `usageMetadata.promptTokenCount` (cached included),
 *   `toolUsePromptTokenCount`, `candidatesTokenCount`, `thoughtsTokenCount` (billed as output),
 *   `cachedContentTokenCount`.
 *
 * `input` is every input token the provider read (cached ones included, as providers count it);
 * `cached` the part of it served from the provider's prompt cache.
 */
export interface Tokens {
  input: number
  output: number
  cached: number
}

export const zeroTokens = (): Tokens => ({ input: 0, output: 0, cached: 0 })

const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0)
const sub = (o: unknown, field: string): unknown =>
  o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[field] : undefined

/** The tokens a usage object reports, or undefined when it is none of the four formats. */
export function readUsage(u: unknown): Tokens | undefined {
  if (u === null || typeof u !== 'object' || Array.isArray(u)) return undefined
  const o = u as Record<string, unknown>
  if ('promptTokenCount' in o || 'candidatesTokenCount' in o || 'totalTokenCount' in o) {
    return {
      input: n(o.promptTokenCount) + n(o.toolUsePromptTokenCount),
      output: n(o.candidatesTokenCount) + n(o.thoughtsTokenCount),
      cached: n(o.cachedContentTokenCount),
    }
  }
  if ('prompt_tokens' in o || 'completion_tokens' in o) {
    return {
      input: n(o.prompt_tokens),
      output: n(o.completion_tokens),
      cached: n(sub(o.prompt_tokens_details, 'cached_tokens')),
    }
  }
  if ('input_tokens' in o || 'output_tokens' in o) {
    if ('input_tokens_details' in o || 'output_tokens_details' in o) {
      return {
        input: n(o.input_tokens),
        output: n(o.output_tokens),
        cached: n(sub(o.input_tokens_details, 'cached_tokens')),
      }
    }
    const read = n(o.cache_read_input_tokens)
    return {
      input: n(o.input_tokens) + read + n(o.cache_creation_input_tokens),
      output: n(o.output_tokens),
      cached: read,
    }
  }
  return undefined
}

/**
 * Keeps the largest of each field: a stream reports usage more than once (Google's running totals
 * on every chunk, Anthropic's input in `message_start` and its output in `message_delta`), and every
 * report is a running total, never an increment.
 */
export function maxInto(into: Tokens, t: Tokens): void {
  if (t.input > into.input) into.input = t.input
  if (t.output > into.output) into.output = t.output
  if (t.cached > into.cached) into.cached = t.cached
}
