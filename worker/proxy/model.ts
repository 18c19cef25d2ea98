import type { ModelName } from '../db/cooldowns'
import { AppError } from '../http/errors'
import type { ProviderAdapter } from '../providers/types'

/**
 * What a model name may look like: every provider's names fit (`gemini-2.5-flash`,
 * `@cf/meta/llama-3.1-8b-instruct`, `accounts/x/models/y`, `tunedModels/z`), and none of the
 * reserved cooldown slots (`*`, `(default)`) or anything that needs escaping in SQL or JSON does.
 */
const MODEL_NAME = /^[A-Za-z0-9._:@/+-]{1,200}$/

/** The one gate from caller text to a model name; every route's model passes here. */
export function toModelName(name: string): ModelName {
  if (!MODEL_NAME.test(name)) {
    throw new AppError(
      400,
      'invalid_model',
      'The model name must be 1 to 200 letters, digits or . _ : @ / + - (as every provider names models)',
    )
  }
  return name as ModelName
}

/** Bodies larger than this are not parsed for a model: parsing costs CPU the free plan does not have. */
const MAX_PARSED_BODY = 1 << 20
const decoder = new TextDecoder()

/**
 * The model a native request will really run on: the path's, where the provider reads it from the
 * path; else the body's, where the endpoint reads the body's field. A body field the endpoint
 * ignores never counts (a restricted AUTH_KEY could otherwise send an allowed decoy there), and
 * then there is no model: a model-restricted AUTH_KEY is refused, and cooldowns use NO_MODEL.
 */
export function extractModel(
  adapter: ProviderAdapter,
  rest: string[],
  body: ArrayBuffer | null,
): ModelName | undefined {
  const fromPath = adapter.modelFromPath(rest)
  const bodyCounts = adapter.bodyModelAuthoritative?.(rest) ?? true
  const model = fromPath ?? (bodyCounts ? modelFromBody(body, adapter.bodyModelField ?? 'model') : undefined)
  return model === undefined ? undefined : toModelName(model)
}

function modelFromBody(body: ArrayBuffer | null, field: string): string | undefined {
  if (!body || body.byteLength === 0 || body.byteLength > MAX_PARSED_BODY) return undefined
  const bytes = new Uint8Array(body)
  // Cheap pre-check: JSON objects start with `{` (after optional whitespace).
  let i = 0
  while (
    i < bytes.length &&
    (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)
  )
    i++
  if (bytes[i] !== 0x7b) return undefined
  try {
    const parsed: unknown = JSON.parse(decoder.decode(bytes))
    const value = (parsed as Record<string, unknown>)[field]
    return typeof value === 'string' && value !== '' ? value : undefined
  } catch {
    return undefined // not JSON after all: the provider will say so
  }
}
