/**
 * D1 answers "overloaded" (and a shared local SQLite file "SQLITE_BUSY") under contention. Reads are
 * safe to repeat, and so are our writes (max-merge, `WHERE status = 'active'`): a retry cannot apply
 * a change twice.
 */
const RETRY_DELAYS_MS = [20, 50, 100, 200, 400, 800]

/** How many times retryIdempotent runs a call at most. */
export const ATTEMPTS = RETRY_DELAYS_MS.length + 1

/** Reads are retried on any error: repeating one costs nothing but time. */
export const ANY_ERROR = (): boolean => true

/** Writes only on contention and D1's transient errors: waiting cannot fix a bad statement. */
export const TRANSIENT = (e: unknown): boolean =>
  /overloaded|busy|locked|timed? ?out|reset|network|unavailable|internal error|try again/i.test(String(e))

/**
 * Contention only: the statement was refused before it ran, so running it again cannot apply it
 * twice, even for a write that adds (a timeout or a reset might have come after it committed).
 */
export const BUSY = (e: unknown): boolean => /overloaded|busy|locked/i.test(String(e))

export async function retryIdempotent<T>(
  run: () => Promise<T>,
  retryable: (e: unknown) => boolean = TRANSIENT,
): Promise<T> {
  for (const delay of RETRY_DELAYS_MS) {
    try {
      return await run()
    } catch (e) {
      if (!retryable(e)) throw e
      await new Promise((r) => setTimeout(r, delay / 2 + Math.random() * delay))
    }
  }
  return run()
}
