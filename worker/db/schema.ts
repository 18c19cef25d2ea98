import { sql } from 'drizzle-orm'
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'
import { PROVIDER_IDS } from '../providers/types'
import { DURATION_COLUMNS } from './durations'
import { CLIENT_STATUSES, KEY_STATUSES } from './statuses'

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
    // A text column (no CHECK in SQL): the enum types every row read as a ProviderId.
    provider: text('provider', { enum: PROVIDER_IDS }).notNull(),
    /** The key sealed with AES-GCM (`enc:v1:…`, db/vault.ts); plain text only in rows not sealed yet. */
    key: text('key').notNull(),
    /** HMAC of provider and key (db/vault.ts): finds duplicates without decrypting. Null until sealed. */
    fingerprint: text('fingerprint'),
    status: text('status', { enum: KEY_STATUSES }).notNull().default('active'),
    remark: text('remark').notNull().default(''),
    /**
     * Keys that share a quota (Google AI Studio keys of one Cloud project): a daily-quota 429 or an
     * out-of-credit answer on one cools them all. Null: a key of its own.
     */
    keyGroup: text('key_group'),
    /** Share of traffic among the keys of its tier (default 1). */
    weight: integer('weight').notNull().default(1),
    /** 0 is used first; a key of tier 1 only when no tier-0 key can serve the model, and so on. */
    tier: integer('tier').notNull().default(0),
    blockedReason: text('blocked_reason'),
    /** Unix seconds. */
    blockedAt: integer('blocked_at'),
    cooldowns: text('cooldowns').notNull().default('{}'),
    /**
     * Why each cooldown was set, `{scope: reason code}` (ours or the provider's code, never its text):
     * for the dashboard only, so the pool never reads it. Written in the same statement as `cooldowns`.
     */
    cooldownReasons: text('cooldown_reasons').notNull().default('{}'),
    /**
     * Unix seconds at or before which some cooldown expires (null: none). Never later than the true
     * soonest expiry, so the sweep that clears expired cooldowns reads only rows that have one.
     */
    cooldownNext: integer('cooldown_next'),
    seq: integer('seq').notNull().default(0),
    /** Unix seconds. */
    createdAt: integer('created_at').notNull(),
    /** Unix seconds of the last health check (manual or scheduled). */
    checkedAt: integer('checked_at'),
    /** Unix seconds a tombstone was made; the cron purges old ones. */
    deletedAt: integer('deleted_at'),
  },
  (t) => [
    uniqueIndex('keys_provider_key').on(t.provider, t.key),
    uniqueIndex('keys_provider_fingerprint').on(t.provider, t.fingerprint),
    // Group cooling finds a key's siblings in one statement.
    index('keys_provider_group')
      .on(t.provider, t.keyGroup)
      .where(sql`key_group IS NOT NULL`),
    // Rows stored before encryption, for the cron to seal: empty (free) once they all are.
    index('keys_unsealed')
      .on(t.id)
      .where(sql`fingerprint IS NULL AND status != 'deleted'`),
    index('keys_provider_seq').on(t.provider, t.seq),
    // Partial indexes: they cost a write only for rows they hold (cooling, or blocked keys).
    index('keys_cooldown_next')
      .on(t.cooldownNext)
      .where(sql`cooldown_next IS NOT NULL`),
    index('keys_blocked_checked')
      .on(t.checkedAt)
      .where(sql`status = 'blocked'`),
    // The keys whose state is not the default (blocked, or with a cooldown not yet swept): with
    // key_pages, a cold isolate reads only these rows, not one row per key.
    index('keys_provider_dynamic')
      .on(t.provider)
      .where(sql`status = 'blocked' OR cooldown_next IS NOT NULL`),
    // The cron's tombstone purge: without it every run read every key (1,000 rows a run for 1,000 keys).
    index('keys_tombstones')
      .on(t.deletedAt)
      .where(sql`status = 'deleted'`),
  ],
)

/**
 * The unchanging part of each provider's pool (id and key) in pages of 1,000, so a cold isolate
 * learns a 10,000-key pool from 10 rows read instead of 10,000. Rebuilt in the same transaction as
 * every change to which keys exist (add, delete); state (status, cooldowns) stays in `keys`.
 */
export const keyPages = sqliteTable(
  'key_pages',
  {
    provider: text('provider').notNull(),
    page: integer('page').notNull(),
    /** JSON array of [id, key]. */
    keys: text('keys').notNull(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.page] })],
)

/**
 * Usage counts, appended in batches: every stats flush of an isolate inserts one row per hour it
 * covers, holding all its (key, model) increments as a JSON array. A flush costs the same couple of
 * rows written whether it carries one key or ten thousand; per-key rows would cost a row per key used.
 * Reads aggregate with json_each (admin only); the cron compacts finished hours into few rows.
 */
export const usageBatches = sqliteTable(
  'usage_batches',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Unix seconds at the start of the hour every entry belongs to. */
    hour: integer('hour').notNull(),
    /** JSON array of UsageEntry (worker/db/stats.repo.ts). */
    entries: text('entries').notNull(),
    /**
     * JSON array of RequestEntry (stats/requests.ts): the clients' requests of the hour per provider
     * and model, by outcome and duration. In the same row as the attempts, so it costs no row written.
     * Null in rows from before it existed and in a flush's further rows.
     */
    requests: text('requests'),
    /**
     * Set by the cron's compaction on the rows it writes: on the hour's first row, the hour's counts
     * per provider (JSON object, provider → [requests, successes, rateLimited, errors, inputTokens,
     * outputTokens, cachedTokens]); '' on its others. A week's chart reads these instead of every
     * entry (admin/usage-cache.ts). Null on a flush the cron has not compacted.
     */
    totals: text('totals'),
    /**
     * Where each key's entries sit in `entries`: JSON object, key id → their indexes. A key's own
     * usage (a key's 7-day page) is then found by D1 without a row read per entry of every other key
     * (db/usage-tail.repo.ts keyUsage). Null in rows from before it existed.
     */
    keys: text('keys'),
  },
  (t) => [index('usage_batches_hour').on(t.hour)],
)

/**
 * Dashboard sessions, so that logging out (or "log out everywhere") really ends them: a cookie is
 * honoured only while its row exists. `entry` names the AUTH_KEY entry that logged in (a digest,
 * never the secret); the cookie is also signed with that entry, so changing or removing the entry
 * ends its sessions even before the row expires. The cron deletes expired rows.
 */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    entry: text('entry').notNull(),
    /** Unix seconds. */
    createdAt: integer('created_at').notNull(),
    /** Unix seconds. */
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('sessions_expires').on(t.expiresAt)],
)

/** Small facts the Worker keeps about itself, such as when the Cron Trigger last ran (`last_cron`). */
export const meta = sqliteTable('meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
})

/**
 * Alerts keyrelay sent (or is still trying to send) to ALERT_WEBHOOK_URL: one row per alert, a few a
 * day at most (one per kind and provider per ALERT_COOLDOWN_MINUTES). The dashboard and the setup
 * check list the recent ones; the cron retries those not delivered.
 */
export const alerts = sqliteTable(
  'alerts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** key_blocked, key_restored, no_usable_key. */
    kind: text('kind').notNull(),
    provider: text('provider').notNull(),
    model: text('model'),
    keyId: integer('key_id'),
    /** Masked, never the key. */
    maskedKey: text('masked_key'),
    reason: text('reason'),
    /** Unix seconds. */
    at: integer('at').notNull(),
    /** pending (not delivered yet), sent, failed (gave up), or local (no webhook configured). */
    status: text('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
  },
  (t) => [index('alerts_kind_provider_at').on(t.kind, t.provider, t.at), index('alerts_at').on(t.at)],
)

/**
 * How many keys each provider had, and how many were cooling or blocked, sampled by every cron run
 * (every 10 minutes by default): one row per run for all providers, so a day costs 144 rows written
 * and the dashboard's 7-day chart reads about 1,000. The cron prunes rows older than 8 days.
 */
export const poolSamples = sqliteTable('pool_samples', {
  /** Unix seconds of the cron run. */
  at: integer('at').primaryKey(),
  /** JSON `{ provider: [total, cooling, blocked] }`. */
  counts: text('counts').notNull(),
})

/**
 * Client keys issued in the dashboard, beside the AUTH_KEY secret's entries. The key itself is never
 * stored: `keyHash` is its SHA-256 (a client key is 256 random bits, so a plain digest is enough),
 * which finds the row for a credential without holding anything that authenticates. `seq` works as
 * in `keys`: an isolate's view reads only rows changed since it last looked, and a deleted client
 * stays as a tombstone (hash wiped) so that every isolate sees it go.
 */
export const clients = sqliteTable(
  'clients',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    /** Hex SHA-256 of the key; null on tombstones. */
    keyHash: text('key_hash'),
    /** The key's first characters and last four (`krc_…wxyz`), for people to tell keys apart. */
    keyHint: text('key_hint').notNull(),
    /** Allowed providers and models in AUTH_KEY's rule grammar (`google-ai-studio,gemini-2.5-flash&groq`); null: all. */
    allow: text('allow'),
    /** Unix seconds after which the key no longer authenticates. */
    expiresAt: integer('expires_at'),
    /** Whether it may use stored-object endpoints when STORED_OBJECTS is `admin`. */
    storedObjects: integer('stored_objects', { mode: 'boolean' }).notNull().default(false),
    status: text('status', { enum: CLIENT_STATUSES }).notNull().default('active'),
    /** JSON `{requestsPerMinute?, requestsPerDay?, tokensPerDay?, tokensPerMonth?}`. */
    quotas: text('quotas').notNull().default('{}'),
    seq: integer('seq').notNull().default(0),
    /** Unix seconds. */
    createdAt: integer('created_at').notNull(),
    /** Unix seconds a tombstone was made; the cron purges old ones. */
    deletedAt: integer('deleted_at'),
  },
  (t) => [uniqueIndex('clients_key_hash').on(t.keyHash), index('clients_seq').on(t.seq)],
)

/**
 * Each client key's usage per UTC day (`d:2026-12-04`) and month (`m:2026-12`): what its quotas are
 * checked against and what the Clients page shows. Isolates add their counts with one upsert per
 * row when they flush usage (or sooner near a quota, clients/ledger.ts), and read the totals back
 * from the same statement. Only keys issued here have rows: AUTH_KEY traffic costs none.
 */
export const clientUsage = sqliteTable(
  'client_usage',
  {
    clientId: integer('client_id').notNull(),
    period: text('period').notNull(),
    requests: integer('requests').notNull().default(0),
    inputTokens: integer('input_tokens').notNull().default(0),
    outputTokens: integer('output_tokens').notNull().default(0),
    cachedTokens: integer('cached_tokens').notNull().default(0),
  },
  // Period first: the Clients page reads one or a few periods for every client, a range of the key.
  (t) => [primaryKey({ columns: [t.period, t.clientId] })],
)

/**
 * Free-tier limits an operator set where the provider adapter's published defaults are wrong for
 * them (Google changes its table, and a project can have its own): per provider and model, for every
 * key group (`group_name` '') or for one. A figure left null keeps the default. Read by the
 * dashboard's quota-left view, and by each isolate's day tally with its sync (pool/day-tally.ts).
 */
export const modelLimits = sqliteTable(
  'model_limits',
  {
    provider: text('provider', { enum: PROVIDER_IDS }).notNull(),
    model: text('model').notNull(),
    groupName: text('group_name').notNull().default(''),
    requestsPerMinute: integer('requests_per_minute'),
    tokensPerMinute: integer('tokens_per_minute'),
    requestsPerDay: integer('requests_per_day'),
    /** Unix seconds. */
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.model, t.groupName] })],
)

/**
 * Each key's requests today per model, for the models with a daily figure (Google's free tier), so
 * that every isolate can pass over a project that has used its day before Google answers 429
 * (pool/day-tally.ts). One row per provider and day (midnight Pacific for Google), `counts` a JSON
 * object `"<model>|<key id>"` → requests the provider counted (every answer but a 429). Each
 * isolate's sync adds its counts in one upsert that returns the row: one row written and read per
 * sync, whatever the pool's size. The cron deletes past days.
 */
export const dayTally = sqliteTable(
  'day_tally',
  {
    provider: text('provider').notNull(),
    /** `YYYY-MM-DD` of the day's start in the provider's quota time zone. */
    day: text('day').notNull(),
    counts: text('counts').notNull(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.day] })],
)

/**
 * Model aliases: a name clients use as their model (`best`) and the `<provider>/<model>` targets it
 * tries in order. Kept like the pool: `seq` for change reads, a deleted alias a tombstone, so every
 * isolate's view (routes/aliases.ts) sees the change within POOL_REFRESH_SECONDS.
 */
export const modelRoutes = sqliteTable(
  'model_routes',
  {
    name: text('name').primaryKey(),
    /** JSON array of `<provider>/<model>`, tried in order. */
    targets: text('targets').notNull(),
    status: text('status', { enum: ['active', 'deleted'] })
      .notNull()
      .default('active'),
    seq: integer('seq').notNull().default(0),
    /** Unix seconds. */
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('model_routes_seq').on(t.seq)],
)

const counter = (name: string) => integer(name).notNull().default(0)

/**
 * Running totals since the deployment began, for Prometheus (admin/prometheus.ts), whose counters
 * must never go down: usage batches are pruned after STATS_RETENTION_DAYS, these rows never are. The
 * cron folds every batch row with an id above the `metrics_folded` mark into them (one upsert per
 * provider and model, in the same transaction as the mark), so a scrape reads these few rows plus
 * the batch rows written since the last cron run. `key_id` 0 holds a model's totals over every key;
 * with METRICS_PER_KEY on, each key also gets a row (model '') of its attempts and tokens.
 */
export const metricTotals = sqliteTable(
  'metric_totals',
  {
    provider: text('provider').notNull(),
    model: text('model').notNull(),
    keyId: integer('key_id').notNull(),
    // Upstream attempts and what they answered (the usage entries' counts).
    attempts: counter('attempts'),
    successes: counter('successes'),
    rateLimited: counter('rate_limited'),
    errors: counter('errors'),
    inputTokens: counter('input_tokens'),
    outputTokens: counter('output_tokens'),
    cachedTokens: counter('cached_tokens'),
    // Clients' requests by the status keyrelay answered, and keys blocked on proof.
    requestsOk: counter('requests_ok'),
    requestsClientError: counter('requests_client_error'),
    requestsLimited: counter('requests_limited'),
    requestsFailed: counter('requests_failed'),
    blocks: counter('blocks'),
    durationMsSum: counter('duration_ms_sum'),
    ...Object.fromEntries(DURATION_COLUMNS.map((c) => [c, counter(c)])),
  },
  (t) => [primaryKey({ columns: [t.provider, t.model, t.keyId] })],
)
