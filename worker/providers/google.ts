import * as z from '../http/schema'
import { classifyCommon, cooldownVerdict, modelAfterModelsSegment, parseJson, underResource } from './common'
import { GOOGLE_FREE_TIER } from './google-limits'
import { parseProtoDuration, parseRetryAfter, secondsUntilPacificMidnight } from './rate-limit'
import type { CooldownPolicy, ProviderAdapter, UpstreamError, Verdict } from './types'

const Detail = z.object({
  '@type': z.string(),
  reason: z.optional(z.string()),
  retryDelay: z.optional(z.string()),
  violations: z.optional(z.array(z.object({ quotaId: z.optional(z.string()) }))),
})

const GoogleError = z.object({
  error: z.object({
    code: z.optional(z.number()),
    message: z.optional(z.string()),
    status: z.optional(z.string()),
    details: z.optional(z.array(z.unknown())),
  }),
})

/** Google wraps errors of streaming calls in an array; both forms carry the same object. */
function parseGoogleError(body: string) {
  const json = parseJson(body)
  const parsed = GoogleError.safeParse(Array.isArray(json) ? json[0] : json)
  if (!parsed.success) return undefined
  const details = (parsed.data.error.details ?? []).flatMap((d) => {
    const r = Detail.safeParse(d)
    return r.success ? [r.data] : []
  })
  return { ...parsed.data.error, details }
}

/** ErrorInfo reasons Google gives for a key that is dead for good. */
const DEAD_KEY_REASONS = ['API_KEY_INVALID', 'API_KEY_EXPIRED', 'CONSUMER_SUSPENDED']

/**
 * Sentences Google begins a message with, matched where they stand (the start): its messages can
 * quote the request (a file's name, say), so a word found anywhere in one proves nothing.
 */
const LEAKED = 'Your API key was reported as leaked'
/** No key reached Google at all, which says nothing about a key. */
const UNREGISTERED = "Method doesn't allow unregistered callers"
/** A file the request named, that the key's project cannot see: the request's doing. */
const FILE_DENIED = 'You do not have permission to access the File'

export function classifyGoogle(error: UpstreamError, policy: CooldownPolicy): Verdict {
  const g = parseGoogleError(error.body)
  const reasons = g?.details.flatMap((d) => (d.reason ? [d.reason] : [])) ?? []
  const dead = DEAD_KEY_REASONS.find((r) => reasons.includes(r))
  if (dead) return { kind: 'block', reason: dead }
  const message = g?.message ?? ''
  if (error.status === 403 && message.startsWith(LEAKED)) return { kind: 'block', reason: 'LEAKED' }
  if (error.status === 403 && (message.startsWith(UNREGISTERED) || message.startsWith(FILE_DENIED)))
    return { kind: 'passthrough' }
  // Anything else about permissions (SERVICE_DISABLED, a bare PERMISSION_DENIED…) is proved first.
  const common = classifyCommon(error, reasons[0] ?? g?.status)
  if (common) return common
  if (error.status !== 429) return { kind: 'passthrough' }

  // Classify by quotaId, not by RetryInfo: a daily quota's body carries a ~60 s retryDelay too.
  const quotaIds = g?.details.flatMap((d) => d.violations ?? []).map((v) => v.quotaId ?? '') ?? []
  if (quotaIds.some((id) => id.includes('PerDay'))) {
    return {
      kind: 'cooldown',
      seconds: secondsUntilPacificMidnight(policy.now),
      allModels: false,
      reason: 'daily_quota',
      // Quotas belong to the Google Cloud project, not the key: its sibling keys are spent too.
      shared: true,
    }
  }
  const delay =
    g?.details.map((d) => parseProtoDuration(d.retryDelay)).find((s) => s !== undefined) ??
    parseRetryAfter(error.headers.get('retry-after'), policy.now)
  return cooldownVerdict(delay, policy.defaultSeconds, 'rate_limited')
}

/**
 * Google's native API names the model in the path, as `models/<id>` or, for a tuned model,
 * `tunedModels/<id>` (which is its name in allow-lists too): `v1beta/tunedModels/x:generateContent`.
 */
export function googleModel(rest: string[]): string | undefined {
  const tuned = rest.indexOf('tunedModels')
  const name = tuned >= 0 ? rest[tuned + 1]?.split(':')[0] : undefined
  if (name) return `tunedModels/${decodeURIComponent(name)}`
  return modelAfterModelsSegment(rest)
}

/** Only Google's OpenAI-compatible surface (`v1beta/openai/…`) reads the model from the body. */
export function googleBodyModelCounts(rest: string[]): boolean {
  return rest[1] === 'openai'
}

/** `models/gemini-2.5-flash` (as Google lists it) → `gemini-2.5-flash` (as requests name it). */
export function googleListedModel(id: string): string {
  return id.replace(/^models\//, '')
}

/** Account-held objects in Google's API: uploads, caches, batches, retrieval stores, tunings. */
const GOOGLE_STORED = new Set([
  'files',
  'cachedContents',
  'batches',
  'corpora',
  'fileSearchStores',
  'operations',
  'generatedFiles',
])

/**
 * Those, and tuned models other than running one (`tunedModels/x:generateContent` runs a model;
 * listing, reading or deleting tunings does not). Uploads go to `upload/v1beta/files`.
 */
export function googleStoredObjects(rest: string[]): boolean {
  if (rest[0] === 'upload') return true
  if (underResource(rest, GOOGLE_STORED)) return true
  const tuned = rest.indexOf('tunedModels')
  return tuned >= 0 && !(rest[tuned + 1] ?? '').includes(':')
}

export const google: ProviderAdapter = {
  freeTier: GOOGLE_FREE_TIER,
  authHeader: 'x-goog-api-key',
  formatAuth: (key) => key,
  queryKeyParam: 'key',
  // Bills and rate-limits the request to another Google Cloud project than the key's own.
  accountHeaders: ['x-goog-user-project'],
  keyShape: { pattern: /^AIza[0-9A-Za-z_-]{35}$/, looksLike: 'AIza followed by 35 letters, digits, - or _' },
  storedObjects: googleStoredObjects,
  modelFromPath: googleModel,
  bodyModelAuthoritative: googleBodyModelCounts,
  // Google's own OpenAI-compatible surface; its model ids come back as `models/<id>`.
  embeddingsPath: 'v1beta/openai/embeddings',
  modelsPath: 'v1beta/openai/models',
  listedModelId: googleListedModel,
  classify: classifyGoogle,
  // The last event of a generateContent stream carries the finish reason.
  streamEnd: /"finishReason"/,
  streamError: (message) =>
    `data: ${JSON.stringify({ error: { code: 502, message, status: 'UNAVAILABLE' } })}\r\n\r\n`,
}
