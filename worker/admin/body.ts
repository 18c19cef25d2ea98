import { loadConfig, type Env } from '../config'
import type * as z from '../http/schema'
import { parseJsonBody } from '../http/validate'

/** An admin call's JSON body, validated, within MAX_BODY_MB. */
export function adminBody<T extends z.ZodMiniType>(
  request: Request,
  env: Env,
  schema: T,
): Promise<z.infer<T>> {
  return parseJsonBody(request, schema, loadConfig(env).maxBodyBytes)
}
