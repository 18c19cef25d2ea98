/**
 * Provider keys at rest. D1 holds each key sealed with AES-256-GCM (`enc:v1:<iv‖ciphertext>`), and
 * a keyed fingerprint (HMAC-SHA256) that finds duplicates without decrypting anything. Both keys
 * are derived (HKDF) from the ENCRYPTION_KEY secret, which lives only in the Worker's secrets: a
 * copy of the database, an export of it or a backup holds no usable provider key.
 *
 * Rows stored before encryption hold the key as plain text until the cron seals them
 * (KeyState.sealLegacy); `open` reads both forms, so nothing stops while that happens.
 */
const SEALED = 'enc:v1:'
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Opened keys per isolate: a pool key is decrypted once, the first time it is used. */
const MAX_OPENED = 100_000

export class Vault {
  private readonly keys: Promise<{ aes: CryptoKey; mac: CryptoKey }>
  private readonly opened = new Map<string, string>()

  constructor(secret: string) {
    this.keys = derive(secret)
  }

  static isSealed(stored: string): boolean {
    return stored.startsWith(SEALED)
  }

  async seal(plain: string): Promise<string> {
    const iv = crypto.getRandomValues(new Uint8Array(12))
    const sealed = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv },
      (await this.keys).aes,
      encoder.encode(plain),
    )
    const out = new Uint8Array(12 + sealed.byteLength)
    out.set(iv)
    out.set(new Uint8Array(sealed), 12)
    return SEALED + toBase64Url(out)
  }

  /**
   * The key already opened in this isolate (or a row from before encryption, as it is), without a
   * promise: the request path asks this first, and awaits `open` only the first time a key is used.
   */
  alreadyOpen(stored: string): string | undefined {
    return Vault.isSealed(stored) ? this.opened.get(stored) : stored
  }

  /** The key as the provider knows it; a row from before encryption is returned as it is. */
  async open(stored: string): Promise<string> {
    if (!Vault.isSealed(stored)) return stored
    const hit = this.opened.get(stored)
    if (hit !== undefined) return hit
    const bytes = fromBase64Url(stored.slice(SEALED.length))
    const plain = decoder.decode(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: bytes.slice(0, 12) },
        (await this.keys).aes,
        bytes.slice(12),
      ),
    )
    if (this.opened.size >= MAX_OPENED) this.opened.clear()
    this.opened.set(stored, plain)
    return plain
  }

  /** 128 bits of HMAC over provider and key: equal keys of one provider, equal fingerprints. */
  async fingerprint(provider: string, plain: string): Promise<string> {
    const mac = await crypto.subtle.sign(
      'HMAC',
      (await this.keys).mac,
      encoder.encode(`${provider}\0${plain}`),
    )
    return toHex(new Uint8Array(mac).slice(0, 16))
  }
}

async function derive(secret: string): Promise<{ aes: CryptoKey; mac: CryptoKey }> {
  const base = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveKey'])
  const params = (info: string) => ({
    name: 'HKDF',
    hash: 'SHA-256',
    salt: encoder.encode('keyrelay'),
    info: encoder.encode(info),
  })
  const [aes, mac] = await Promise.all([
    crypto.subtle.deriveKey(
      params('keyrelay provider keys, aes-gcm, v1'),
      base,
      { name: 'AES-GCM', length: 256 },
      false,
      ['encrypt', 'decrypt'],
    ),
    crypto.subtle.deriveKey(
      params('keyrelay provider keys, fingerprint, v1'),
      base,
      { name: 'HMAC', hash: 'SHA-256', length: 256 },
      false,
      ['sign'],
    ),
  ])
  return { aes, mac }
}

const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')

function toBase64Url(bytes: Uint8Array): string {
  let text = ''
  for (const b of bytes) text += String.fromCharCode(b)
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function fromBase64Url(text: string): Uint8Array {
  const raw = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  return Uint8Array.from(raw, (c) => c.charCodeAt(0))
}

const vaults = new Map<string, Vault>()

/** One vault per secret per isolate (its derived keys and opened-key cache are reused). */
export function vaultFor(secret: string): Vault {
  let vault = vaults.get(secret)
  if (!vault) vaults.set(secret, (vault = new Vault(secret)))
  return vault
}
