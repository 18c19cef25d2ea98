import { AppError } from '../http/errors'
import type { ProviderAdapter } from '../providers/types'

/** Cooldowns of requests that name no model (speech, predictions…) are kept under this name. */
export const NO_MODEL = '(default)'

/** Model names become JSON-path members in D1; real names never need quotes, backslashes or spaces. */
const MODEL_NAME = /^[A-Za-z0-9._:@/+-]{1,200}$/

/** Bodies larger than this are not parsed for a model: parsing costs CPU the free plan does not have. */
const MAX_PARSED_BODY = 1 << 20

export function extractModel(
  adapter: ProviderAdapter,
  rest: string[],
  body: ArrayBuffer | null,
): string | undefined {
  const fromPath = adapter.modelFromPath(rest)
  const model = fromPath ?? modelFromBody(body, adapter.bodyModelField ?? 'model')
  if (model !== undefined && !MODEL_NAME.test(model)) {
    throw new AppError(400, 'invalid_model', 'The model name contains characters no provider uses')
  }
  return model
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
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes))
    const value = (parsed as Record<string, unknown>)[field]
    return typeof value === 'string' && value !== '' ? value : undefined
  } catch {
    return undefined // not JSON after all: the provider will say so
  }
}
