import { maxInto, readUsage, zeroTokens, type Tokens } from './usage-read'

/** What is kept of a chunk that ends inside a usage object; a usage object is a few hundred bytes. */
const MAX_CARRY = 8192
/** What is kept of a chunk that may end inside a usage key (`"usageMetadata" :` and some space). */
const KEY_TAIL = 32

/**
 * Finds the usage an answer reports as its text passes by, chunk after chunk, without holding the
 * answer: a JSON body or an event stream alike, since both carry their usage as a JSON object under
 * a `usage` or `usageMetadata` key (stats/usage-read.ts reads it). Only the few bytes that may hold a
 * key or object cut between two chunks are kept.
 *
 * Model output cannot pose as usage: text inside a JSON string has its quotes escaped, so an
 * unescaped `"usage":` is always a real key. Tool arguments that Google and Anthropic send as objects
 * could hold such a key; every report is kept as a running maximum, so such output can raise the
 * count of the request that asked for it, never lower it.
 */
export class UsageMeter {
  private carry = ''
  private tokens: Tokens | undefined

  feed(text: string): void {
    const s = this.carry + text
    let from = 0
    for (;;) {
      const at = s.indexOf('"usage', from)
      if (at < 0) {
        this.carry = s.length - from > KEY_TAIL ? s.slice(-KEY_TAIL) : s.slice(from)
        return
      }
      const end = this.readAt(s, at)
      if (end === undefined) {
        // Cut off by the chunk's end: wait for the rest (unless it is far too long to be usage).
        this.carry = s.length - at <= MAX_CARRY ? s.slice(at) : ''
        return
      }
      from = end
    }
  }

  /** The largest of each field the answer reported; undefined when it reported none. */
  result(): Tokens | undefined {
    return this.tokens
  }

  /**
   * Reads the usage key at `at`: the index after it (and after its object, if complete), or undefined
   * when the text ends before the key or its object does.
   */
  private readAt(s: string, at: number): number | undefined {
    let i = at + 6
    // `"usageMet` at a chunk's end may be the start of `"usageMetadata"`: wait for the rest.
    if (s.length - i < 8 && 'Metadata'.startsWith(s.slice(i))) return undefined
    if (s.startsWith('Metadata', i)) i += 8
    if (i >= s.length) return undefined
    if (s[i] !== '"' || s[at - 1] === '\\') return i
    i++
    while (i < s.length && isSpace(s.charCodeAt(i))) i++
    if (i >= s.length) return undefined
    if (s[i] !== ':') return i
    i++
    while (i < s.length && isSpace(s.charCodeAt(i))) i++
    if (i >= s.length) return undefined
    if (s[i] !== '{') return i // null, or not an object: nothing reported here
    const close = objectEnd(s, i)
    if (close === undefined) return undefined
    try {
      const t = readUsage(JSON.parse(s.slice(i, close + 1)))
      if (t) maxInto((this.tokens ??= zeroTokens()), t)
    } catch {
      // Not JSON after all: an answer's own business, never the caller's error.
    }
    return close + 1
  }
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

/** The index of the `}` that closes the object opening at `open`, strings and escapes respected. */
function objectEnd(s: string, open: number): number | undefined {
  let depth = 0
  let inString = false
  for (let i = open; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b) depth++
    else if (c === 0x7d && --depth === 0) return i
  }
  return undefined
}
