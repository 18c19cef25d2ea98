import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

export const KEY_STATUSES = ['active', 'blocked', 'deleted'] as const
export type KeyStatus = (typeof KEY_STATUSES)[number]

/**
 * One row per provider key.
 *
 * `seq` makes the per-isolate pool cheap to keep fresh: every write sets it to one more than the
 * provider's current maximum (read through `keys_provider_seq`, one row), so an isolate asks only for
 * `seq > lastSeen` and reads just the rows that changed. For the same reason a deleted key becomes a
 * tombstone (status `deleted`, key material wiped) instead of vanishing: the change must be seen.
 *
 * `cooldowns` is a JSON object `{model: unixSeconds}` (`*` = every model). It is updated with
 * `json_set` in one statement, so concurrent 429s on different models never overwrite each other.
 */
export const keys = sqliteTable(
  'keys',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    provider: text('provider').notNull(),
    key: text('key').notNull(),
    status: text('status', { enum: KEY_STATUSES }).notNull().default('active'),
    remark: text('remark').notNull().default(''),
    blockedReason: text('blocked_reason'),
    /** Unix seconds. */
    blockedAt: integer('blocked_at'),
    cooldowns: text('cooldowns').notNull().default('{}'),
    seq: integer('seq').notNull().default(0),
    /** Unix seconds. */
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('keys_provider_key').on(t.provider, t.key),
    index('keys_provider_seq').on(t.provider, t.seq),
  ],
)

export type KeyRow = typeof keys.$inferSelect
