import { expect, test } from 'vitest'
import { checkThrottle, recordFailure } from './throttle'

// Module state is per isolate, as in the Worker; each test uses addresses of its own and a clock far
// apart from the other tests', so nothing they count meets.
test('a flood of addresses waiting out penalties of their own does not free the longest one (the table is never cleared at once)', () => {
  const now = 1_000_000
  for (let i = 0; i < 8; i++) recordFailure('198.51.100.7', now, `guess-${i}`)
  expect(() => checkThrottle('198.51.100.7', now + 1)).toThrow(/try again in/)
  // 12,000 other addresses fail five times each: each waits a few seconds, and the table is full.
  for (let i = 0; i < 12_000; i++) for (let n = 0; n < 5; n++) recordFailure(`flood-${i}`, now + 2, `g${n}`)
  expect(() => checkThrottle('198.51.100.7', now + 30)).toThrow(
    /^Too many failed attempts to authenticate; try again/,
  )
})

test('the same wrong credential sent again does not count; each new one does', () => {
  const now = 2_000_000
  const ip = '198.51.100.20'
  for (let i = 0; i < 50; i++) recordFailure(ip, now + i, 'sk-a-mistyped-key')
  expect(() => checkThrottle(ip, now + 50)).not.toThrow()
  // Three more distinct guesses: four in all, one past the free ones.
  for (const guess of ['guess-1', 'guess-2', 'guess-3']) recordFailure(ip, now + 50, guess)
  expect(() => checkThrottle(ip, now + 50)).toThrow(/try again in 2 s/)
  // Repeats of guesses already counted still add nothing once the wait is over.
  for (let i = 0; i < 10; i++) recordFailure(ip, now + 53, i % 2 ? 'guess-2' : 'sk-a-mistyped-key')
  expect(() => checkThrottle(ip, now + 53)).not.toThrow()
  recordFailure(ip, now + 53, 'guess-4')
  expect(() => checkThrottle(ip, now + 53)).toThrow(/try again in 4 s/)
})
