import { log } from '../log'

const encoder = new TextEncoder()
/** Enough of the previous chunk to find an end marker split across two chunks. */
const CARRY = 64

export interface StreamGuard {
  provider: string
  /** The provider's error event (ProviderAdapter.streamError). */
  errorEvent: string
  /** What a complete stream of this provider always contains near its end, when that is certain. */
  endMarker?: RegExp | undefined
}

/**
 * Relays an event stream chunk by chunk and makes a cut visible: if upstream breaks off (the read
 * fails) or simply stops before the provider's end marker (a dropped connection can reach the Worker
 * as a clean end), one error event in the provider's own format is appended, so the client's SDK
 * raises an error instead of taking a truncated answer for a complete one.
 */
export function guardEventStream(
  body: ReadableStream<Uint8Array>,
  guard: StreamGuard,
): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let carry = ''
  let ended = guard.endMarker === undefined
  const cut = (controller: ReadableStreamDefaultController<Uint8Array>, why: string) => {
    log('stream_cut', { provider: guard.provider, why })
    controller.enqueue(encoder.encode(guard.errorEvent))
  }
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>
      try {
        chunk = await reader.read()
      } catch (e) {
        cut(controller, String(e).slice(0, 200))
        controller.error(e)
        return
      }
      if (chunk.done) {
        if (!ended) cut(controller, 'ended before the end marker')
        controller.close()
        return
      }
      if (!ended && guard.endMarker) {
        const text = carry + decoder.decode(chunk.value, { stream: true })
        ended = guard.endMarker.test(text)
        carry = text.slice(-CARRY)
      }
      controller.enqueue(chunk.value)
    },
    cancel(reason) {
      return reader.cancel(reason)
    },
  })
}
