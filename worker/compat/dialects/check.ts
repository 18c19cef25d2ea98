import { AppError } from '../../http/errors'
import type * as z from '../../http/schema'

/**
 * `json` as the schema's shape, or a 400 naming where it is wrong (paths and zod's messages only:
 * they never echo the rejected value).
 */
export function checked<T extends z.ZodMiniType>(schema: T, json: unknown): z.infer<T> {
  const parsed = schema.safeParse(json)
  if (parsed.success) return parsed.data as z.infer<T>
  const where = parsed.error.issues
    .slice(0, 3)
    .map((i) => (i.path.length > 0 ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ')
  throw new AppError(400, 'invalid_body', `The body is not a valid request: ${where}`)
}
