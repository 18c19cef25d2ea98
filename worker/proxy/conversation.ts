/**
 * A conversation's identity, where the client says it: the session headers coding agents send
 * (Claude Code's `x-claude-code-session-id`, Codex's `session_id`), a plain `x-session-id`, or in a
 * compat body OpenAI's `prompt_cache_key` and `user`, Anthropic's `metadata.user_id` (Claude Code
 * puts its session there too). Sent with the same pool key every time, a conversation finds the
 * provider's prompt cache warm (ProviderView.pick's rendezvous choice). `previous_response_id` is
 * not one: it changes every turn.
 */
const HEADERS = ['x-session-id', 'x-claude-code-session-id', 'session_id', 'session-id', 'conversation_id']

/** Long enough for any session id; a longer value is still hashed, only the first part. */
const MAX_ID = 256

/** The conversation a request's headers name, if any. */
export function conversationInHeaders(headers: Headers): string | undefined {
  for (const name of HEADERS) {
    const value = headers.get(name)
    if (value) return value.slice(0, MAX_ID)
  }
  return undefined
}

/** The conversation a compat body names, if any (headers, read by dispatch, come first). */
export function conversationInBody(json: Record<string, unknown>): string | undefined {
  const metadata = json.metadata
  const userId =
    metadata !== null && typeof metadata === 'object'
      ? (metadata as Record<string, unknown>).user_id
      : undefined
  const id = json.prompt_cache_key ?? userId ?? json.user
  return typeof id === 'string' && id !== '' ? id.slice(0, MAX_ID) : undefined
}

/** A 32-bit FNV-1a hash of the conversation id: the same in every isolate, with no state kept. */
export function affinityOf(id: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
