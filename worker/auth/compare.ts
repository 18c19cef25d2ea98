const encoder = new TextEncoder()

/**
 * Constant-time equality for secrets of any length: both sides are hashed first, so neither the
 * position of the first differing byte nor the secret's length leaks through timing.
 */
export async function secretEquals(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(a)),
    crypto.subtle.digest('SHA-256', encoder.encode(b)),
  ])
  return crypto.subtle.timingSafeEqual(ha, hb)
}
