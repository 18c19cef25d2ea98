/**
 * What other isolates learned, read at the moments it is likely to save a 429: after this request
 * met a limit, and before it gambles on a key in a storm.
 */
import type { PoolKey } from '../pool/view'
import type { ForwardInput } from './route'

/**
 * After a key answers 429 or is dead, before the next key is picked, an isolate reads what other
 * isolates learned (in a storm they have likely met other limited keys), at most this often: a
 * storm costs a few reads per isolate, not one per 429.
 */
const VERDICT_CATCH_UP_MS = 100

/**
 * Before a gamble (see ProviderView.unproven) the same read, unless the view is this fresh. Gambles
 * come in bursts at a storm's start, when a lesson tens of milliseconds old is the one that saves a
 * 429. Measured with 8 isolates (5 runs each): a fifth fewer 429s than at 100 ms, for the same rows
 * read; 10 ms gained nothing more.
 */
const GAMBLE_CATCH_UP_MS = 30

/**
 * How long a request waits for either read. A D1 read from a colo far from the database takes a
 * round trip, which is still cheaper than the 429 it saves; but a read that D1 stalls or refuses is
 * retried for seconds (db/retry.ts). Past this the request picks from what the view holds (the read
 * goes on, for the picks after it). Measured in the 8-isolate benchmark, whose reads slow down far
 * beyond their 12 ms median under its contention: 100 ms cost from a third more to three times the
 * 429s; 500 ms about 0.2 more per limited Google key; 1 s nothing measurable (interleaved runs
 * against no limit, 4 each).
 */
const READ_WAIT_MS = 1000

/** After a 429 or a dead key, before the next pick: what other isolates learned meanwhile. */
export function catchUpAfterVerdict(input: ForwardInput): Promise<void> {
  return readLessons(input, VERDICT_CATCH_UP_MS)
}

/**
 * The next key for this request. A gamble in a storm (a key not heard from since it began) is taken
 * after reading what other isolates learned, picking again if that cooled or removed the key; it is
 * held (see ProviderView.gamble) until the caller releases it.
 */
export function pickKey(input: ForwardInput, tried: ReadonlySet<number>): Picked | Promise<Picked> {
  const { view, route } = input
  const key = view.pick(route.model, Date.now() / 1000, tried, route.affinity, input.spent)
  // Outside a storm (nearly always) the pick is all: no promise, no read.
  if (!key || !view.unproven(key, Date.now())) return { key }
  return gambleOn(input, key, tried)
}

type Picked = { key: PoolKey | undefined; release?: () => void }

/** A gamble in a storm: read what other isolates learned first, and pick again if it ruled the key out. */
async function gambleOn(input: ForwardInput, first: PoolKey, tried: ReadonlySet<number>): Promise<Picked> {
  const { view, route } = input
  const now = () => Date.now() / 1000
  let key: PoolKey | undefined = first
  let release = view.gamble(key.id)
  await readLessons(input, GAMBLE_CATCH_UP_MS)
  if (view.usable(key, route.model, now())) return { key, release }
  release()
  key = view.pick(route.model, now(), tried, route.affinity, input.spent)
  if (!key || !view.unproven(key, Date.now())) return { key }
  release = view.gamble(key.id)
  return { key, release }
}

/** What other isolates learned, read unless the view is `withinMs` fresh, waited for READ_WAIT_MS at most. */
function readLessons(input: ForwardInput, withinMs: number): Promise<void> {
  return boundedWait(input.catchUp(withinMs))
}

/**
 * Waits for a read of what other isolates learned (the pool's rows, the day tally's counts) for
 * READ_WAIT_MS at most; the read goes on after, for the picks that follow.
 */
export async function boundedWait(read: Promise<void>): Promise<void> {
  // The bound's timer is cleared once the read is in: most reads are skipped (a fresh view) or fast,
  // and a second-long timer per retry would outlive the request for nothing.
  let timer: ReturnType<typeof setTimeout> | undefined
  const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, READ_WAIT_MS)))
  try {
    await Promise.race([read.catch(() => undefined), bound])
  } finally {
    clearTimeout(timer)
  }
}
