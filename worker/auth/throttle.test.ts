import { expect, test } from 'vitest'
import { checkThrottle, recordFailure } from './throttle'

// Module state is per isolate, as in the Worker; each test uses addresses of its own and a clock far
// apart from the other tests', so nothing they count meets.
test('a flood of addresses waiting out penalties of their own does not free the longest one (the table is never cleared at once)', () => {
  const now = 1_000_000
  for (let i = 0; i < 8; i++) recordFailure('198.51.100.7', now)
  expect(() => checkThrottle('198.51.100.7', now + 1)).toThrow(/try again in/)
  // 12,000 other addresses fail five times each: each waits a few seconds, and the table is full.
  for (let i = 0; i < 12_000; i++) for (let n = 0; n < 5; n++) recordFailure(`flood-${i}`, now + 2)
  expect(() => checkThrottle('198.51.100.7', now + 30)).toThrow(
    /^Too many failed attempts to authenticate; try again/,
  )
})
