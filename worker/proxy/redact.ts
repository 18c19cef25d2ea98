/**
 * Removes a pool key from an upstream error body before it is relayed: the key itself, any long
 * piece of it, and the partly masked forms providers echo back (OpenAI's `Incorrect API key
 * provided: sk-proj-****abcd`). The rest of the provider's error stays as it was.
 */
const MASKED = '[redacted]'
/** A piece of the key this long is the key's, not a coincidence. */
const MIN_PIECE = 8
/** A token with mask characters in it, as providers print keys: `sk-…abcd`, `AIza****x9Qk`. */
const MASKED_TOKEN = /[A-Za-z0-9_-]*(?:\*+|…|\.{3})[A-Za-z0-9_*.…-]*/g

export function redactKey(text: string, key: string): string {
  let out = text.split(key).join(MASKED)
  if (key.length < MIN_PIECE) return out
  // Masked echoes first (their visible head may be a long piece too): a visible head that starts
  // the key, a visible tail that ends it, or a visible middle of it.
  out = out.replace(MASKED_TOKEN, (token) => {
    const visible = token.split(/\*+|…|\.{3}/).filter(Boolean)
    const head = token.match(/^[A-Za-z0-9_-]+/)?.[0] ?? ''
    const tail = token.match(/[A-Za-z0-9_-]+$/)?.[0] ?? ''
    const fromKey =
      (head.length >= 3 && key.startsWith(head)) ||
      (tail.length >= 3 && key.endsWith(tail)) ||
      visible.some((v) => v.length >= 4 && key.includes(v))
    return fromKey ? MASKED : token
  })
  // Then any run of MIN_PIECE or more characters that also occurs in the key.
  for (let start = 0; start + MIN_PIECE <= key.length; start++) {
    const piece = key.slice(start, start + MIN_PIECE)
    if (out.includes(piece)) out = replaceLongestRun(out, key, piece)
  }
  return out
}

/** Replaces, at each place `piece` occurs, the longest stretch around it that is also in the key. */
function replaceLongestRun(text: string, key: string, piece: string): string {
  let out = ''
  let from = 0
  for (let at = text.indexOf(piece, from); at !== -1; at = text.indexOf(piece, from)) {
    let start = at
    let end = at + piece.length
    while (start > 0 && key.includes(text.slice(start - 1, end))) start--
    while (end < text.length && key.includes(text.slice(start, end + 1))) end++
    out += text.slice(from, start) + MASKED
    from = end
  }
  return out + text.slice(from)
}
