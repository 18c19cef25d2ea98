const encoder = new TextEncoder()

const digest = (text: string) => crypto.subtle.digest('SHA-256', encoder.encode(text))

/** The configured secrets' digests, computed once per isolate (AUTH_KEY does not change while it lives). */
const known = new Map<string, Promise<ArrayBuffer>>()

function knownDigest(secret: string): Promise<ArrayBuffer> {
  let d = known.get(secret)
  if (!d) {
    d = digest(secret)
    known.set(secret, d)
  }
  return d
}

/**
 * Which of `secrets` equals `candidate`, in constant time: both sides are compared as SHA-256
 * digests, so neither the position of the first differing byte nor a secret's length leaks through
 * timing, and every secret is compared whether or not an earlier one matched.
 */
export async function matchSecret(secrets: string[], candidate: string): Promise<number> {
  const [given, ...expected] = await Promise.all([digest(candidate), ...secrets.map(knownDigest)])
  let found = -1
  expected.forEach((d, i) => {
    if (crypto.subtle.timingSafeEqual(d, given as ArrayBuffer) && found === -1) found = i
  })
  return found
}
