import { sha256, toHex } from '../auth/sha256'

/**
 * Client keys: `krc_` and 43 base64url characters (256 random bits), so they are told apart from
 * provider keys and AUTH_KEY at a glance, and a plain SHA-256 of one is as safe to store as a salted
 * slow hash of a password would be: there is nothing to guess.
 */
export const CLIENT_KEY_PREFIX = 'krc_'
const PREFIX = CLIENT_KEY_PREFIX

export function newClientKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  let text = ''
  for (const b of bytes) text += String.fromCharCode(b)
  return PREFIX + btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** The form stored and looked up: hex SHA-256 of the key. */
export const clientKeyHash = (key: string): string => toHex(sha256(key))

/** What listings show: enough to tell keys apart, nothing to use. */
export const clientKeyHint = (key: string): string => `${PREFIX}…${key.slice(-4)}`
