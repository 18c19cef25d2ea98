import type { ModelName } from '../db/cooldowns'
import { readBody } from '../http/body'
import { AppError } from '../http/errors'
import * as z from '../http/schema'
import { parseJsonBytes } from '../http/validate'
import { isProviderId } from '../providers/registry'
import type { ProviderId } from '../providers/types'
import { unknownProvider } from '../proxy/dispatch'
import { toModelName } from '../proxy/model'

/** Bodies of the OpenAI-compatible routes: any OpenAI request, as long as `model` is a string. */
const CompatBody = z.looseObject({ model: z.string().check(z.minLength(1)) })

export interface CompatRequest {
  raw: ArrayBuffer
  json: z.infer<typeof CompatBody>
  provider: ProviderId
  /** The model as the provider names it (after `<provider>/`), checked like every model name. */
  model: ModelName
}

/** Reads the JSON body once (within MAX_BODY_MB) and splits `model` = `<provider>/<model>`. */
export async function readCompatBody(request: Request, maxBytes: number): Promise<CompatRequest> {
  const { raw, json } = await readCompatJson(request, maxBytes)
  const { provider, model } = splitModelId(json.model)
  return { raw, json, provider, model }
}

/** Reads the JSON body once (within MAX_BODY_MB), checking only that `model` is a string. */
export async function readCompatJson(
  request: Request,
  maxBytes: number,
): Promise<{ raw: ArrayBuffer; json: z.infer<typeof CompatBody> }> {
  const raw = await readBody(request, maxBytes)
  const parsed = CompatBody.safeParse(parseJsonBytes(raw))
  if (!parsed.success) throw new AppError(400, 'invalid_body', 'The body needs a "model" string')
  return { raw, json: parsed.data }
}

export function splitModelId(id: string): { provider: ProviderId; model: ModelName } {
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
  return { provider, model: toModelName(id.slice(slash + 1)) }
}
