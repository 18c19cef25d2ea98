/** A key's statuses: the schema types its column with them, and the row model and admin API read them. */
export const KEY_STATUSES = ['active', 'blocked', 'deleted'] as const
export type KeyStatus = (typeof KEY_STATUSES)[number]

/** The statuses a key can be given (deletion is its own operation). */
export const LIVE_STATUSES = ['active', 'blocked'] as const satisfies readonly KeyStatus[]
export type LiveStatus = (typeof LIVE_STATUSES)[number]

/** A client key's statuses (db/schema.ts `clients`): `deleted` rows are tombstones, so isolates see it. */
export const CLIENT_STATUSES = ['active', 'disabled', 'deleted'] as const
export type ClientStatus = (typeof CLIENT_STATUSES)[number]
