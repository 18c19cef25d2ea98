import { AppError } from '../http/errors'

const MAX_DECODE_ROUNDS = 3

/** What makes a path need the full check: an escape, a backslash, a control character. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
const PLAIN_UNSAFE = /[%\\\u0000-\u001f\u007f]/

const forbidden = () => new AppError(400, 'invalid_path', 'The path contains a forbidden segment')

/**
 * Splits the raw (still percent-encoded) path after `/api/<provider>/` into segments and refuses any
 * that could climb out of `${base}/<provider>/` once something downstream decodes it: `.`/`..`, an
 * encoded `/` or `\`, control characters, at any depth of (double) encoding.
 */
export function parseRest(rawRest: string): string[] {
  if (rawRest === '')
    throw new AppError(400, 'invalid_path', 'Missing the provider path after /api/<provider>/')
  const segments = rawRest.split('/')
  // Nearly every path has nothing encoded, no backslash and no control character: then only `.` and
  // `..` segments need looking for, and no decoding round is run.
  if (!PLAIN_UNSAFE.test(rawRest)) {
    for (const segment of segments) if (segment === '.' || segment === '..') throw forbidden()
    return segments
  }
  for (const segment of segments) {
    let current = segment
    for (let round = 0; round <= MAX_DECODE_ROUNDS; round++) {
      // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
      if (current === '.' || current === '..' || /[/\\\u0000-\u001f\u007f]/.test(current)) {
        throw forbidden()
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

/**
 * `${base}/<provider>/<rest><search>`. It cannot leave `${base}/<provider>/`: parseRest refused every
 * segment that could climb out once decoded (`.`, `..`, encoded `/` or `\`, at any depth), which the
 * path traversal tests in test/proxy.test.ts hold it to.
 */
export function buildTarget(base: string, provider: string, rest: string[], search: string): string {
  return `${base}/${provider}/${rest.join('/')}${search}`
}
