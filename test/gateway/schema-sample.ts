/**
 * A value that satisfies a JSON Schema (OpenAI's `response_format.json_schema.schema`) or Google's
 * OpenAPI-style `responseSchema` (types in capitals): what a model answers when asked for structured
 * output, so a client that parses it (LangChain's `withStructuredOutput`) gets a valid object.
 */
type Schema = {
  type?: string | string[]
  properties?: Record<string, Schema>
  items?: Schema
  enum?: unknown[]
  anyOf?: Schema[]
  oneOf?: Schema[]
  const?: unknown
  nullable?: boolean
}

export function sampleOf(schema: unknown, depth = 0): unknown {
  const s = (schema && typeof schema === 'object' ? schema : {}) as Schema
  if (depth > 8) return null
  if (s.const !== undefined) return s.const
  if (s.enum && s.enum.length > 0) return s.enum[0]
  const alternative = s.anyOf?.[0] ?? s.oneOf?.[0]
  if (alternative) return sampleOf(alternative, depth + 1)
  const type = (Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type)?.toLowerCase()
  switch (type) {
    case 'string':
      return 'Paris'
    case 'number':
      return 21.5
    case 'integer':
      return 21
    case 'boolean':
      return true
    case 'array':
      return [sampleOf(s.items, depth + 1)]
    case 'null':
      return null
    default:
      return Object.fromEntries(
        Object.entries(s.properties ?? {}).map(([k, v]) => [k, sampleOf(v, depth + 1)]),
      )
  }
}
