import { expect, test } from 'vitest'
import { distinctMasks, maskKey } from './log'

test('a mask shows the ends of a key, never more than a third of it; short strings still differ', () => {
  expect(maskKey('AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5x9Qk')).toBe('AIza…x9Qk')
  expect(maskKey('sk-short-key-12')).toBe('sk…12')
  expect(maskKey('garbage')).toBe('g…e')
  expect(maskKey('x')).toBe('…')
  expect(maskKey('AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5x9Qk', 8)).toBe('AIza…n4O5x9Qk')
})

test('keys whose usual masks read alike are told apart by more of their tail', () => {
  const keys = [
    'demo-google-minute-quota',
    'demo-google-daily-quota',
    'AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5x9Qk',
  ]
  const masks = distinctMasks(keys)
  expect(new Set(masks).size).toBe(3)
  expect(masks[2]).toBe('AIza…x9Qk')
  expect(masks[0]).toMatch(/^demo…/)
  expect(masks[0]).not.toBe(masks[1])
  // The same key twice is one key: nothing to tell apart.
  expect(distinctMasks(['sk-same-key-0000000000001', 'sk-same-key-0000000000001'])).toEqual([
    'sk-s…0001',
    'sk-s…0001',
  ])
})

test('keys alike at the end keep their usual mask: a longer tail would only show more of them', () => {
  const keys = [0, 1, 2].map((i) => `AIzaSyFIX${String(i).padStart(2, '0')}abcdefghijklmnopqrstuvwxyz01`)
  expect(distinctMasks(keys)).toEqual(['AIza…yz01', 'AIza…yz01', 'AIza…yz01'])
})
