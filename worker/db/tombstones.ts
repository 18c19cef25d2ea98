/**
 * Deleted keys stay as wiped tombstones (status `deleted`) so that every view refreshing through
 * `seq` sees the deletion. Two numbers keep that safe, and they belong together:
 */

/** The cron purges tombstones older than this… */
export const TOMBSTONE_DAYS = 7

/**
 * …and every per-isolate view (pool views, the dashboard's AdminView) reloads in full at least this
 * often, far inside TOMBSTONE_DAYS: no live view can have missed a tombstone that is purged.
 */
export const FULL_RELOAD_MS = 6 * 3600 * 1000
