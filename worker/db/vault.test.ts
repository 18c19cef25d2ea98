import { describe, expect, test } from 'vitest'
import { Vault } from './vault'

const secret = 'a-test-encryption-secret-of-enough-length-0123456789'

describe('Vault', () => {
  test('seals keys so the stored form reveals nothing, and opens them again', async () => {
    const vault = new Vault(secret)
    const key = 'AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5x9Qk'
    const sealed = await vault.seal(key)
    expect(sealed).toMatch(/^enc:v1:[A-Za-z0-9_-]+$/)
    expect(sealed).not.toContain(key.slice(4, 12))
    expect(await new Vault(secret).open(sealed)).toBe(key)
    // A fresh IV each time: the same key never seals to the same text.
    expect(await vault.seal(key)).not.toBe(sealed)
  })

  test('a row from before encryption opens as it is', async () => {
    expect(await new Vault(secret).open('sk-plain-legacy-key-000001')).toBe('sk-plain-legacy-key-000001')
  })

  test('another secret cannot open it (GCM authenticates)', async () => {
    const sealed = await new Vault(secret).seal('sk-secret-value-00000001')
    await expect(new Vault(`${secret}-other`).open(sealed)).rejects.toThrow()
  })

  test('fingerprints: stable per secret and provider, different across either', async () => {
    const a = new Vault(secret)
    const fp = await a.fingerprint('openai', 'sk-1')
    expect(fp).toMatch(/^[0-9a-f]{32}$/)
    expect(await new Vault(secret).fingerprint('openai', 'sk-1')).toBe(fp)
    expect(await a.fingerprint('groq', 'sk-1')).not.toBe(fp)
    expect(await a.fingerprint('openai', 'sk-2')).not.toBe(fp)
    expect(await new Vault(`${secret}-other`).fingerprint('openai', 'sk-1')).not.toBe(fp)
  })
})
