import * as z from '../http/schema'
import { wholeJsonNumber, wholeNumber } from '../http/schema'
import { PROVIDER_IDS } from '../providers/types'

export const MAX_KEYS_PER_CALL = 20_000

/** A provider key is one token: no whitespace or control characters inside, at most 1 KB. */
const KEY_SHAPE = /^[\x21-\x7e]{1,1024}$/

const provider = z.enum(PROVIDER_IDS)
const status = z.enum(['active', 'blocked'])
const ids = z.array(wholeJsonNumber(1)).check(z.minLength(1), z.maxLength(MAX_KEYS_PER_CALL))

export const AddKeysBody = z.object({
  provider,
  keys: z.array(z.string()).check(z.maxLength(MAX_KEYS_PER_CALL)),
  remark: z.optional(z.string().check(z.maxLength(200))),
})

export const ListKeysQuery = z.object({
  provider: z.optional(provider),
  status: z.optional(status),
  limit: z._default(wholeNumber(1, 1000), 100),
  offset: z._default(wholeNumber(0, Number.MAX_SAFE_INTEGER), 0),
})

export const DeleteKeysBody = z.object({ ids })

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

export const KeyIdParam = wholeNumber(1, Number.MAX_SAFE_INTEGER)

export const PatchKeyBody = z
  .strictObject({
    status: z.optional(status),
    clearCooldowns: z.optional(z.literal(true)),
    remark: z.optional(z.string().check(z.maxLength(200))),
  })
  .check(
    z.refine((p) => p.status !== undefined || p.clearCooldowns === true || p.remark !== undefined, {
      message: 'nothing to change: give status, clearCooldowns or remark',
    }),
  )

export type KeyPatch = z.infer<typeof PatchKeyBody>

/** Either explicit ids, or a provider's keys (optionally of one status) page by page. */
export const CheckKeysBody = z.union([
  z.strictObject({ ids }),
  z.strictObject({
    provider,
    status: z.optional(status),
    afterId: z._default(wholeJsonNumber(0), 0),
  }),
])

export const StatsQuery = z.object({
  provider: z.optional(provider),
  keyId: z.optional(wholeNumber(1, Number.MAX_SAFE_INTEGER)),
  /** Unix seconds; default: the last 24 hours. */
  since: z.optional(wholeNumber(0, Number.MAX_SAFE_INTEGER)),
})
