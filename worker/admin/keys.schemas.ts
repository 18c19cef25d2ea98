import { z } from 'zod'
import { PROVIDER_IDS } from '../providers/types'

export const MAX_KEYS_PER_CALL = 20_000

/** A provider key is one token: no whitespace or control characters inside, at most 1 KB. */
const KEY_SHAPE = /^[\x21-\x7e]{1,1024}$/

export const AddKeysBody = z.object({
  provider: z.enum(PROVIDER_IDS),
  keys: z.array(z.string()).max(MAX_KEYS_PER_CALL),
  remark: z.string().max(200).optional(),
})

export const ListKeysQuery = z.object({
  provider: z.enum(PROVIDER_IDS).optional(),
  status: z.enum(['active', 'blocked']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
})

export const DeleteKeysBody = z.object({
  ids: z.array(z.number().int().positive()).min(1).max(MAX_KEYS_PER_CALL),
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

export const KeyIdParam = z.coerce.number().int().positive()

export const PatchKeyBody = z
  .object({
    status: z.enum(['active', 'blocked']).optional(),
    clearCooldowns: z.literal(true).optional(),
    remark: z.string().max(200).optional(),
  })
  .strict()
  .refine((p) => p.status !== undefined || p.clearCooldowns || p.remark !== undefined, {
    message: 'nothing to change: give status, clearCooldowns or remark',
  })

export type KeyPatch = z.infer<typeof PatchKeyBody>

/** Either explicit ids, or a provider's keys (optionally of one status) page by page. */
export const CheckKeysBody = z.union([
  z.object({ ids: z.array(z.number().int().positive()).min(1).max(MAX_KEYS_PER_CALL) }).strict(),
  z
    .object({
      provider: z.enum(PROVIDER_IDS),
      status: z.enum(['active', 'blocked']).optional(),
      afterId: z.number().int().min(0).default(0),
    })
    .strict(),
])

export const StatsQuery = z.object({
  provider: z.enum(PROVIDER_IDS).optional(),
  keyId: z.coerce.number().int().positive().optional(),
  /** Unix seconds; default: the last 24 hours. */
  since: z.coerce.number().int().min(0).optional(),
})
