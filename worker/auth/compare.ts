import { constantTimeEqual, sha256, toHex } from './sha256'

/** The configured secrets' digests, computed once per isolate (AUTH_KEY does not change while it lives). */
const known = new Map<string, Uint8Array>()

function knownDigest(secret: string): Uint8Array {
  let d = known.get(secret)
  if (!d) {
    d = sha256(secret)
    known.set(secret, d)
  }
  return d
}

/**
 * Which of `secrets` equals `candidate`, in constant time: both sides are compared as SHA-256
 * digests, so neither the position of the first differing byte nor a secret's length leaks through
 * timing, and every secret is compared whether or not an earlier one matched. Synchronous, so a
 * caller can count a failure in the same step (throttle.ts).
 */
export function matchSecret(secrets: string[], candidate: string): number {
  const given = sha256(candidate)
  let found = -1
  secrets.forEach((secret, i) => {
    if (constantTimeEqual(knownDigest(secret), given) && found === -1) found = i
  })
  return found
}

const ids = new Map<string, string>()

/**
 * A stable name for an AUTH_KEY entry that reveals nothing of it: a digest of its secret under a
 * label of its own (never equal to the digest compared above). It ties sessions and cache keys to
 * the entry: change or remove the entry and they no longer match.
 */
export function secretId(secret: string): string {
  let id = ids.get(secret)
  if (!id) {
    id = toHex(sha256(`keyrelay-entry-id\0${secret}`)).slice(0, 32)
    ids.set(secret, id)
  }
  return id
}
