/**
 * What a provider refuses because of the request itself, whatever key it carries: the answers a
 * hostile or careless client can draw from healthy keys (shared/reference/provider-errors.md, "Answers
 * about the request, not the key"). The stand-in's accounts have uploaded no files and cached no
 * content, belong to the organisation `org-keyrelay`, have no access to `gpt-x`, know only dated
 * `anthropic-beta` values, and hold an OpenRouter balance that affords 100,000 tokens.
 */
import * as f from './fixtures'
import type { SeenRequest } from './mock-gateway'

export const STAND_IN_ORGANIZATION = 'org-keyrelay'
/** A model every stand-in OpenAI project is refused. */
export const RESTRICTED_OPENAI_MODEL = 'gpt-x'
const AFFORDABLE_TOKENS = 100_000

const json = (status: number, body: string) =>
  new Response(body, { status, headers: { 'content-type': 'application/json' } })

type Json = Record<string, unknown>

function parsed(body: string): Json {
  try {
    const value: unknown = JSON.parse(body)
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {}
  } catch {
    return {}
  }
}

/** Every value of `field` anywhere in `value` (a request's parts nest deeply). */
function valuesOf(value: unknown, field: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(value)) for (const v of value) valuesOf(v, field, out)
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === field) out.push(v)
      valuesOf(v, field, out)
    }
  }
  return out
}

/** A beta value as Anthropic names them: a feature and a date (`prompt-caching-2024-07-31`). */
const KNOWN_BETA = /^[a-z0-9-]+-\d{4}-\d{2}-\d{2}$|^[a-z0-9-]+-\d{8}$/

export function requestRefusal(req: SeenRequest): Response | undefined {
  const body = parsed(req.body)
  switch (req.provider) {
    case 'google-ai-studio': {
      const file = valuesOf(body, 'fileData')
        .map((d) => (d as Json)?.fileUri)
        .find((uri): uri is string => typeof uri === 'string')
      if (file) return json(403, f.googleFileDenied(file.split('/').pop() ?? file))
      if (typeof body.cachedContent === 'string') return json(403, f.googleCachedContentDenied)
      return undefined
    }
    case 'openai': {
      const org = req.headers['openai-organization']
      if (org !== undefined && org !== STAND_IN_ORGANIZATION) return json(401, f.openaiMismatchedOrganization)
      if (body.model === RESTRICTED_OPENAI_MODEL)
        return json(403, f.openaiModelNotFound(RESTRICTED_OPENAI_MODEL))
      return undefined
    }
    case 'anthropic': {
      const betas = (req.headers['anthropic-beta'] ?? '').split(',').map((b) => b.trim())
      const unknown = betas.filter((b) => b !== '' && !KNOWN_BETA.test(b))
      if (unknown.length > 0) return json(400, f.anthropicUnknownBeta(unknown.join(', ')))
      if (valuesOf(body, 'file_id').length > 0) return json(403, f.anthropicPermission)
      return undefined
    }
    case 'openrouter': {
      const asked = Number(body.max_tokens ?? 0)
      return asked > AFFORDABLE_TOKENS
        ? json(402, f.openrouterCannotAfford(asked, AFFORDABLE_TOKENS))
        : undefined
    }
    default:
      return undefined
  }
}
