/**
 * Token counts for compat chat streams. An OpenAI-style stream reports usage only when the request
 * sets `stream_options.include_usage`, so keyrelay sets it on a stream that did not, and takes the
 * extra chunk it brings (`choices: []` with `usage`) out again: the client gets exactly the stream it
 * asked for, and the pool key's and client's tokens are counted (forward.ts reads them on the way).
 */
import type { TextRewrite } from '../proxy/stream-guard'
import { jsonBytes } from './dialects/chat'

const encoder = new TextEncoder()

/** The body to send: the client's own bytes, or with include_usage set when it streams without it. */
export function askForUsage(
  json: Record<string, unknown>,
  raw: ArrayBuffer,
): { payload: ArrayBuffer; injected: boolean } {
  if (json.stream !== true) return { payload: raw, injected: false }
  const options = json.stream_options
  const asked =
    options !== null &&
    typeof options === 'object' &&
    (options as Record<string, unknown>).include_usage === true
  if (asked) return { payload: raw, injected: false }
  const own = options !== null && typeof options === 'object' ? options : {}
  const payload = jsonBytes({ ...json, stream_options: { ...own, include_usage: true } })
  return { payload, injected: true }
}

/** A stream's text without the usage chunk keyrelay asked for on the client's behalf. */
export function usageDropper(): TextRewrite {
  let partial = ''
  let skipBlank = false
  const pass = (lines: string[]): string => {
    let out = ''
    for (const line of lines) {
      if (skipBlank && line.trim() === '') {
        skipBlank = false
        continue
      }
      skipBlank = false
      if (isUsageChunk(line)) {
        skipBlank = true
        continue
      }
      out += `${line}\n`
    }
    return out
  }
  return {
    push(text) {
      const lines = (partial + text).split('\n')
      partial = lines.pop() ?? ''
      return pass(lines)
    },
    end() {
      const out = partial ? pass([partial]).slice(0, -1) : ''
      partial = ''
      return out
    },
  }
}

/**
 * The answer without the usage chunk a client did not ask for; anything but a 2xx stream as it is.
 * The proxy drops it in the pass that relays the answer (BodyWatch.rewrite); this is for an answer
 * that did not go through it.
 */
export function dropUsageChunk(res: Response): Response {
  const type = res.headers.get('content-type') ?? ''
  if (!res.ok || !res.body || !type.includes('text/event-stream')) return res
  const decoder = new TextDecoder()
  const rewrite = usageDropper()
  const body = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(bytes, controller) {
        const out = rewrite.push(decoder.decode(bytes, { stream: true }))
        if (out) controller.enqueue(encoder.encode(out))
      },
      flush(controller) {
        const out = rewrite.push(decoder.decode()) + rewrite.end()
        if (out) controller.enqueue(encoder.encode(out))
      },
    }),
  )
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers })
}

/** `data: {…"choices":[],…"usage":{…}}`: the chunk include_usage adds, and only that one. */
function isUsageChunk(line: string): boolean {
  if (!line.startsWith('data:') || !line.includes('"usage"')) return false
  try {
    const chunk = JSON.parse(line.slice(5)) as { choices?: unknown; usage?: unknown }
    return (
      Array.isArray(chunk.choices) &&
      chunk.choices.length === 0 &&
      chunk.usage !== null &&
      typeof chunk.usage === 'object'
    )
  } catch {
    return false
  }
}
