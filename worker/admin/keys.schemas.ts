import * as z from '../http/schema'
import { wholeJsonNumber, wholeNumber } from '../http/schema'
import { LIVE_STATUSES } from '../db/statuses'
import { PROVIDER_IDS } from '../providers/types'
import { SORTS } from './keys.query'

export const MAX_KEYS_PER_CALL = 20_000

/** A provider key is one token: no whitespace or control characters inside, at most 1 KB. */
export const KEY_SHAPE = /^[\x21-\x7e]{1,1024}$/

export const provider = z.enum(PROVIDER_IDS)
const status = z.enum(LIVE_STATUSES)
const ids = z.array(wholeJsonNumber(1)).check(z.minLength(1), z.maxLength(MAX_KEYS_PER_CALL))
/** A group: keys that share one quota (a Google Cloud project, an account). */
export const group = z
  .string()
  .check(z.regex(/^[\w.@:-]{1,64}$/, 'must be 1 to 64 letters, digits or . _ @ : -'))
const weight = wholeJsonNumber(1).check(z.maximum(1000))
const tier = z
  .number()
  .check(z.refine(Number.isInteger, 'must be a whole number'), z.minimum(0), z.maximum(9))

export const AddKeysBody = z.object({
  provider,
  keys: z.array(z.string()).check(z.maxLength(MAX_KEYS_PER_CALL)),
  remark: z.optional(z.string().check(z.maxLength(200))),
  /** Keys can arrive blocked (an import keeps what the old pool knew), with the reason shown. */
  status: z.optional(status),
  blockedReason: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
  group: z.optional(group),
  weight: z.optional(weight),
  tier: z.optional(tier),
})

export const ListKeysQuery = z.object({
  provider: z.optional(provider),
  status: z.optional(z.enum(['active', 'available', 'cooling', 'blocked'])),
  q: z.optional(z.string().check(z.maxLength(200))),
  group: z.optional(z.string().check(z.maxLength(64))),
  sort: z._default(z.enum(SORTS), 'id'),
  order: z._default(z.enum(['asc', 'desc']), 'asc'),
  limit: z._default(wholeNumber(1, 1000), 100),
  offset: z._default(wholeNumber(0, Number.MAX_SAFE_INTEGER), 0),
})

/**
 * By ids, or every key of one status (optionally of one provider): "delete all blocked"; or every key
 * the current ENCRYPTION_KEY cannot open (sealed with a secret since replaced).
 */
export const DeleteKeysBody = z.union([
  z.strictObject({ ids }),
  z.strictObject({ status: z.literal('blocked'), provider: z.optional(provider) }),
  z.strictObject({ unopenable: z.literal(true), provider: z.optional(provider) }),
])

export const ExportBody = z.strictObject({
  ids: z.optional(ids),
  provider: z.optional(provider),
  format: z._default(z.enum(['txt', 'csv']), 'txt'),
  /** Full keys only when asked for explicitly; masked otherwise. */
  full: z._default(z.boolean(), false),
})

export const PreviewBody = z.object({
  provider,
  keys: z.array(z.string()).check(z.maxLength(MAX_KEYS_PER_CALL)),
})

/** Trimmed, non-empty, de-duplicated keys; the index of the first malformed one, if any. */
export function normaliseKeys(raw: string[]): { unique: string[]; duplicates: number; malformedAt?: number } {
  const unique = new Set<string>()
  let duplicates = 0
  for (const [i, value] of raw.entries()) {
    const key = value.trim()
    if (key === '') continue
    if (!KEY_SHAPE.test(key)) return { unique: [], duplicates: 0, malformedAt: i }
    if (unique.has(key)) duplicates++
    else unique.add(key)
  }
  return { unique: [...unique], duplicates }
}

/** For the add preview: how the pasted entries split, without stopping at the first bad one. */
export function classifyKeys(raw: string[]): { unique: string[]; duplicates: number; malformed: number } {
  const unique = new Set<string>()
  let duplicates = 0
  let malformed = 0
  for (const value of raw) {
    const key = value.trim()
    if (key === '') continue
    if (!KEY_SHAPE.test(key)) malformed++
    else if (unique.has(key)) duplicates++
    else unique.add(key)
  }
  return { unique: [...unique], duplicates, malformed }
}

export const KeyIdParam = wholeNumber(1, Number.MAX_SAFE_INTEGER)

const changes = {
  status: z.optional(status),
  clearCooldowns: z.optional(z.literal(true)),
  remark: z.optional(z.string().check(z.maxLength(200))),
  /** null takes the key out of its group. */
  group: z.optional(z.nullable(group)),
  weight: z.optional(weight),
  tier: z.optional(tier),
}
const CHANGE_FIELDS = ['status', 'clearCooldowns', 'remark', 'group', 'weight', 'tier'] as const
const somethingToChange = z.refine<Partial<Record<(typeof CHANGE_FIELDS)[number], unknown>>>(
  (p) => CHANGE_FIELDS.some((f) => p[f] !== undefined),
  { message: `nothing to change: give ${CHANGE_FIELDS.join(', ')}` },
)

export const PatchKeyBody = z.strictObject(changes).check(somethingToChange)

/** The same change for many keys at once. */
export const PatchKeysBody = z.strictObject({ ids, ...changes }).check(somethingToChange)

/** Either explicit ids, or a provider's keys (optionally of one status) page by page. */
export const CheckKeysBody = z.union([
  z.strictObject({ ids }),
  z.strictObject({
    provider,
    status: z.optional(status),
    afterId: z._default(wholeJsonNumber(0), 0),
  }),
])

/** The overview's charts: the last 24 hours (default) or the last 7 days. */
export const OverviewQuery = z.object({ range: z._default(z.enum(['24h', '7d']), '24h') })

export const StatsQuery = z.object({
  provider: z.optional(provider),
  keyId: z.optional(wholeNumber(1, Number.MAX_SAFE_INTEGER)),
  /** Unix seconds; default: the last 24 hours. */
  since: z.optional(wholeNumber(0, Number.MAX_SAFE_INTEGER)),
})
