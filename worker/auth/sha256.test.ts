import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { constantTimeEqual, sha256, toHex } from './sha256'

describe('sha256', () => {
  test.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
  ])('the FIPS 180-2 test vector %j', (input, digest) => {
    expect(toHex(sha256(input))).toBe(digest)
  })

  test('agrees with node:crypto on every length across block boundaries, and on UTF-8', () => {
    for (let n = 0; n < 200; n++) {
      const bytes = new Uint8Array(randomBytes(n))
      expect(toHex(sha256(bytes))).toBe(createHash('sha256').update(bytes).digest('hex'))
    }
    expect(toHex(sha256('ключ 🔑'))).toBe(createHash('sha256').update('ключ 🔑').digest('hex'))
  })

  test('constantTimeEqual', () => {
    expect(constantTimeEqual(sha256('a'), sha256('a'))).toBe(true)
    expect(constantTimeEqual(sha256('a'), sha256('b'))).toBe(false)
    expect(constantTimeEqual(new Uint8Array(2), new Uint8Array(3))).toBe(false)
  })
})
