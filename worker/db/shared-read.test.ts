import { expect, test } from 'vitest'
import { SharedRead, settleAll } from './shared-read'

const never = () => new Promise<number>(() => undefined)

test('concurrent callers share one read; the next caller after it settles reads again', async () => {
  const shared = new SharedRead<number>()
  let reads = 0
  const read = () => Promise.resolve(++reads)
  const [a, b] = [shared.join(read, 0), shared.join(read, 5)]
  expect(await a).toBe(1)
  expect(await b).toBe(1)
  expect(await shared.join(read, 10)).toBe(2)
})

test('a read still running after 10 s is no longer shared: the next caller starts another', async () => {
  const shared = new SharedRead<number>()
  void shared.join(never, 0)
  expect(shared.current(9_999)).toBeDefined()
  expect(await shared.join(() => Promise.resolve(7), 10_000)).toBe(7)
})

test('a read that failed is not kept, and the promise handed to waitUntil never rejects', async () => {
  const shared = new SharedRead<number>()
  const handed: Promise<unknown>[] = []
  await expect(
    shared.join(
      () => Promise.reject(new Error('D1 down')),
      0,
      (p) => handed.push(p),
    ),
  ).rejects.toThrow()
  await expect(handed[0]).resolves.toBeUndefined()
  expect(shared.current(1)).toBeUndefined()
})

test('settleAll answers a failure only once every other promise has settled', async () => {
  let finished = false
  const slow = new Promise<number>((resolve) =>
    setTimeout(() => {
      finished = true
      resolve(1)
    }, 20),
  )
  await expect(settleAll([Promise.reject(new Error('D1 down')), slow])).rejects.toThrow('D1 down')
  expect(finished).toBe(true)
  expect(await settleAll([Promise.resolve('a'), slow])).toEqual(['a', 1])
})
