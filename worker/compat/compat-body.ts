import * as z from '../http/schema'
import { AppError } from '../http/errors'
import { isProviderId } from '../providers/registry'
import type { ProviderId } from '../providers/types'
import { unknownProvider } from '../proxy/dispatch'

/** Bodies of the OpenAI-compatible routes: any OpenAI request, as long as `model` is a string. */
const CompatBody = z.looseObject({ model: z.string().check(z.minLength(1)) })

export interface CompatRequest {
  raw: ArrayBuffer
  json: z.infer<typeof CompatBody>
  provider: ProviderId
  /** The model as the provider names it (after `<provider>/`). */
  model: string
}

/** Reads the JSON body once and splits `model` = `<provider>/<model>`. */
export async function readCompatBody(request: Request): Promise<CompatRequest> {
  const raw = await request.arrayBuffer()
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(raw))
  } catch {
    throw new AppError(400, 'invalid_json', 'The request body is not valid JSON')
  }
  const parsed = CompatBody.safeParse(json)
  if (!parsed.success) throw new AppError(400, 'invalid_body', 'The body needs a "model" string')
  const { provider, model } = splitModelId(parsed.data.model)
  return { raw, json: parsed.data, provider, model }
}

export function splitModelId(id: string): { provider: ProviderId; model: string } {
  const slash = id.indexOf('/')
  if (slash <= 0 || slash === id.length - 1) {
    throw new AppError(
      404,
      'model_not_found',
      'Models on this route are named <provider>/<model>, e.g. openai/gpt-4o-mini',
    )
  }
  const provider = id.slice(0, slash)
  if (!isProviderId(provider)) throw unknownProvider()
  return { provider, model: id.slice(slash + 1) }
}
