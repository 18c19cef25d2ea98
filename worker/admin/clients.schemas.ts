import * as z from '../http/schema'
import { wholeJsonNumber } from '../http/schema'

/** Each quota is a whole number from 1 up; a quota left out is no limit. */
const quota = wholeJsonNumber(1).check(z.maximum(1e12))

export const QuotasBody = z.strictObject({
  requestsPerMinute: z.optional(quota),
  requestsPerDay: z.optional(quota),
  tokensPerDay: z.optional(quota),
  tokensPerMonth: z.optional(quota),
})

const name = z.string().check(z.trim(), z.minLength(1, 'must not be empty'), z.maxLength(100))
/** AUTH_KEY's rule grammar: `provider,model,model&provider`; empty or null allows everything. */
const allow = z.nullable(z.string().check(z.maxLength(4000)))
/** Unix seconds; null: never expires. */
const expiresAt = z.nullable(wholeJsonNumber(1))

export const CreateClientBody = z.strictObject({
  name,
  allow: z.optional(allow),
  expiresAt: z.optional(expiresAt),
  storedObjects: z.optional(z.boolean()),
  quotas: z.optional(QuotasBody),
})

const CHANGE_FIELDS = ['name', 'allow', 'expiresAt', 'storedObjects', 'quotas', 'status'] as const

/** The fields given change; `quotas` replaces the whole set (a quota left out is removed). */
export const PatchClientBody = z
  .strictObject({
    name: z.optional(name),
    allow: z.optional(allow),
    expiresAt: z.optional(expiresAt),
    storedObjects: z.optional(z.boolean()),
    quotas: z.optional(QuotasBody),
    status: z.optional(z.enum(['active', 'disabled'])),
  })
  .check(
    z.refine((p) => CHANGE_FIELDS.some((f) => p[f] !== undefined), {
      message: `nothing to change: give ${CHANGE_FIELDS.join(', ')}`,
    }),
  )
