import type { z } from 'zod'
import { AppError } from './errors'

/** Issue paths and messages only: zod's messages never echo the rejected value. */
function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ')
}

export async function parseJsonBody<T extends z.ZodType>(request: Request, schema: T): Promise<z.infer<T>> {
  let json: unknown
  try {
    json = await request.json()
  } catch {
    throw new AppError(400, 'invalid_json', 'The request body is not valid JSON')
  }
  const parsed = schema.safeParse(json)
  if (!parsed.success) throw new AppError(400, 'invalid_body', describe(parsed.error))
  return parsed.data
}

export function parseQuery<T extends z.ZodType>(url: URL, schema: T): z.infer<T> {
  const parsed = schema.safeParse(Object.fromEntries(url.searchParams))
  if (!parsed.success) throw new AppError(400, 'invalid_query', describe(parsed.error))
  return parsed.data
}
