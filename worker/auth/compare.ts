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
  const seen = recognised(secrets)
  const hit = seen.get(candidate)
  if (hit !== undefined) return hit
  const given = sha256(candidate)
  let found = -1
  secrets.forEach((secret, i) => {
    if (constantTimeEqual(knownDigest(secret), given) && found === -1) found = i
  })
  if (found !== -1 && seen.size < MAX_RECOGNISED) seen.set(candidate, found)
  return found
}

/**
 * Credentials that matched before, each with its entry: a client sending the same AUTH_KEY on every
 * request costs a Map lookup, not a digest (the digest was a third of keyrelay's CPU on a request).
 * Only right credentials are kept, so a guess always takes the constant-time path; the lookup of a
 * wrong one hashes the guess, which tells nothing about any secret. Per list of secrets (one per
 * isolate's configuration), so a changed AUTH_KEY starts afresh.
 */
const MAX_RECOGNISED = 64
const recognisedBy = new WeakMap<string[], Map<string, number>>()

function recognised(secrets: string[]): Map<string, number> {
  let seen = recognisedBy.get(secrets)
  if (!seen) recognisedBy.set(secrets, (seen = new Map()))
  return seen
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
