/**
 * A read that concurrent requests of one isolate share. Shared promises outlive the request that
 * started them, which is their hazard: the runtime cancels the I/O a request left pending once it
 * has answered (unless handed to its waitUntil), and a read cancelled so never settles. Every
 * request that waited on it would then wait for ever; here a read still running after GIVE_UP_MS is
 * no longer shared, and the next caller starts another. One that settles late is left to settle.
 */
const GIVE_UP_MS = 10_000

export class SharedRead<T = void> {
  private pending: Promise<T> | undefined
  private startedAt = 0

  /** The read in flight, unless it has been given up on. */
  current(now = Date.now()): Promise<T> | undefined {
    return this.pending && now - this.startedAt < GIVE_UP_MS ? this.pending : undefined
  }

  /** Starts `read` as the shared one; if `waitUntil` is given, it outlives the starting request. */
  start(read: () => Promise<T>, now = Date.now(), waitUntil?: (p: Promise<unknown>) => void): Promise<T> {
    const run: Promise<T> = read().finally(() => {
      if (this.pending === run) this.pending = undefined
    })
    this.pending = run
    this.startedAt = now
    waitUntil?.(run.catch(() => undefined))
    return run
  }

  /** The read in flight, or a new one. */
  join(read: () => Promise<T>, now = Date.now(), waitUntil?: (p: Promise<unknown>) => void): Promise<T> {
    return this.current(now) ?? this.start(read, now, waitUntil)
  }
}

/**
 * Promise.all that answers only once every promise has settled. With Promise.all, one failing lets
 * the request answer while a shared read another started is still running; the runtime then cancels
 * that read, and every later call waits on it until it is given up on (GIVE_UP_MS).
 */
export async function settleAll<T extends readonly unknown[]>(
  promises: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(promises)
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>
  }
}
