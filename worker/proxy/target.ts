import { AppError } from '../http/errors'

const MAX_DECODE_ROUNDS = 3

/**
 * Splits the raw (still percent-encoded) path after `/api/<provider>/` into segments and refuses any
 * that could climb out of `${base}/<provider>/` once something downstream decodes it: `.`/`..`, an
 * encoded `/` or `\`, control characters, at any depth of (double) encoding.
 */
export function parseRest(rawRest: string): string[] {
  if (rawRest === '')
    throw new AppError(400, 'invalid_path', 'Missing the provider path after /api/<provider>/')
  const segments = rawRest.split('/')
  for (const segment of segments) {
    let current = segment
    for (let round = 0; round <= MAX_DECODE_ROUNDS; round++) {
      // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
      if (current === '.' || current === '..' || /[/\\\u0000-\u001f\u007f]/.test(current)) {
        throw new AppError(400, 'invalid_path', 'The path contains a forbidden segment')
      }
      let decoded: string
      try {
        decoded = decodeURIComponent(current)
      } catch {
        throw new AppError(400, 'invalid_path', 'The path is not valid percent-encoding')
      }
      if (decoded === current) break
      current = decoded
    }
  }
  return segments
}

/**
 * The query string without the parameters named: a client's AUTH_KEY may ride in a provider's key
 * parameter (Google's `?key=`), and is never forwarded, whichever provider it was sent to.
 */
export function stripParams(search: string, names: ReadonlySet<string>): string {
  if (search.length <= 1) return ''
  const kept = search
    .slice(1)
    .split('&')
    .filter((pair) => {
      const name = pair.split('=')[0] ?? ''
      try {
        return !names.has(decodeURIComponent(name.replace(/\+/g, ' ')))
      } catch {
        return true
      }
    })
  return kept.length > 0 ? `?${kept.join('&')}` : ''
}

/** `${base}/<provider>/<rest><search>`, verified to still lie under `${base}/<provider>/` once parsed. */
export function buildTarget(base: string, provider: string, rest: string[], search: string): string {
  const prefix = `${base}/${provider}/`
  const target = `${prefix}${rest.join('/')}${search}`
  const parsed = new URL(target)
  const expected = new URL(prefix)
  if (parsed.origin !== expected.origin || !parsed.pathname.startsWith(expected.pathname)) {
    throw new AppError(400, 'invalid_path', 'The path leaves the provider route')
  }
  return target
}
