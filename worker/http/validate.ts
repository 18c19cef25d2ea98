import type * as z from './schema'
import { readBody } from './body'
import { AppError } from './errors'

type Schema = z.ZodMiniType

/** Issue paths and messages only: zod's messages never echo the rejected value. */
function describe(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => (i.path.length > 0 ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ')
}

// One per isolate: a decode without `stream` starts from a clean state each time.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

/** Strict UTF-8 JSON: invalid bytes are an error, not silently replaced. */
export function parseJsonBytes(bytes: ArrayBuffer): unknown {
  try {
    return JSON.parse(strictUtf8.decode(bytes))
  } catch {
    throw new AppError(400, 'invalid_json', 'The request body is not valid JSON')
  }
}

export async function parseJsonBody<T extends Schema>(
  request: Request,
  schema: T,
  maxBytes: number,
): Promise<z.infer<T>> {
  const json = parseJsonBytes(await readBody(request, maxBytes))
  const parsed = schema.safeParse(json)
  if (!parsed.success) throw new AppError(400, 'invalid_body', describe(parsed.error.issues))
  return parsed.data as z.infer<T>
}

export function parseQuery<T extends Schema>(url: URL, schema: T): z.infer<T> {
  const parsed = schema.safeParse(Object.fromEntries(url.searchParams))
  if (!parsed.success) throw new AppError(400, 'invalid_query', describe(parsed.error.issues))
  return parsed.data as z.infer<T>
}
