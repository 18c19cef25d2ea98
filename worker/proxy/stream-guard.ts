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

/** Text in, text out: what a stream's rewrite does with each piece of text as it passes. */
export interface TextRewrite {
  /** The rewritten text for this piece (possibly empty: a partial line waits for the rest). */
  push(text: string): string
  /** What is left to send when the stream ends. */
  end(): string
}

export interface BodyWatch {
  /** For an event stream: makes a cut visible (see watchBody). */
  guard?: StreamGuard
  /** Sees the body's text as it passes (stats/usage-meter.ts). */
  reader?: { feed(text: string): void }
  /** Called once when the body has passed, was cut, or the client went away. */
  done?: () => void
  /**
   * Rewrites the text the client gets (a translated dialect), in this same pass: a stream of its own
   * piped behind this one would cost another hop per chunk and decode the text a second time. The
   * guard and the reader see the text as upstream sent it.
   */
  rewrite?: TextRewrite
}

/** Answers whose body a rewrite already turned into the client's dialect (see BodyWatch.rewrite). */
export const rewritten = new WeakSet<Response>()

/**
 * Relays an answer's body chunk by chunk, unbuffered, in one pass that does what the answer needs:
 *
 * - With a guard (event streams), makes a cut visible: if upstream breaks off (the read fails) or
 *   simply stops before the provider's end marker (a dropped connection can reach the Worker as a
 *   clean end), one error event in the provider's own format is appended, so the client's SDK raises
 *   an error instead of taking a truncated answer for a complete one.
 * - With a reader, hands it the text as it passes (token usage), and `done` when it has all of it.
 */
export function watchBody(body: ReadableStream<Uint8Array>, watch: BodyWatch): ReadableStream<Uint8Array> {
  const { guard, reader: textReader, rewrite } = watch
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let carry = ''
  let ended = guard?.endMarker === undefined
  let finished = false
  const finish = () => {
    if (finished) return
    finished = true
    watch.done?.()
  }
  const send = (controller: ReadableStreamDefaultController<Uint8Array>, text: string) => {
    if (text) controller.enqueue(encoder.encode(text))
  }
  const cut = (controller: ReadableStreamDefaultController<Uint8Array>, why: string) => {
    if (!guard) return
    log('stream_cut', { provider: guard.provider, why })
    send(controller, rewrite ? rewrite.push(guard.errorEvent) : guard.errorEvent)
  }
  /** The stream has ended (complete or cut short): whatever the rewrite still holds goes out. */
  const close = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    if (rewrite) send(controller, rewrite.push(decoder.decode()) + rewrite.end())
  }
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // Until something goes out: a pull that enqueues nothing is not pulled again.
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>
        try {
          chunk = await reader.read()
        } catch (e) {
          cut(controller, String(e).slice(0, 200))
          finish()
          controller.error(e)
          return
        }
        if (chunk.done) {
          if (!ended) cut(controller, 'ended before the end marker')
          close(controller)
          finish()
          controller.close()
          return
        }
        // Decoded only while someone reads the text: a guard until its marker, a reader to the end,
        // a rewrite.
        if (textReader || !ended || rewrite) {
          const text = decoder.decode(chunk.value, { stream: true })
          textReader?.feed(text)
          if (!ended && guard?.endMarker) {
            const seen = carry + text
            ended = guard.endMarker.test(seen)
            carry = seen.slice(-CARRY)
          }
          if (rewrite) {
            const out = rewrite.push(text)
            if (!out) continue
            send(controller, out)
            return
          }
        }
        controller.enqueue(chunk.value)
        return
      }
    },
    cancel(reason) {
      finish()
      return reader.cancel(reason)
    },
  })
}

/**
 * Reads a body whole when it ends within `limit` bytes (a JSON answer arrives in one piece anyway,
 * and reading it in C++ costs a fraction of relaying it through JavaScript chunk by chunk); a longer
 * one is answered as a stream of what was read followed by the rest, unread.
 */
export async function readSmall(
  body: ReadableStream<Uint8Array>,
  limit: number,
): Promise<{ whole: Uint8Array } | { stream: ReadableStream<Uint8Array> }> {
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const chunk = await reader.read()
    if (chunk.done) break
    chunks.push(chunk.value)
    total += chunk.value.byteLength
    if (total > limit) {
      return {
        stream: new ReadableStream<Uint8Array>({
          async pull(controller) {
            const next = chunks.shift()
            if (next) return controller.enqueue(next)
            const more = await reader.read()
            if (more.done) controller.close()
            else controller.enqueue(more.value)
          },
          cancel: (reason) => reader.cancel(reason),
        }),
      }
    }
  }
  if (chunks.length === 1) return { whole: chunks[0] as Uint8Array }
  const whole = new Uint8Array(total)
  let at = 0
  for (const c of chunks) {
    whole.set(c, at)
    at += c.byteLength
  }
  return { whole }
}
