import type { TextRewrite } from '../../proxy/stream-guard'
import { isChatChunk, type ChatChunk, type ChatToolCallDelta } from './shapes'

/**
 * Turns an OpenAI chat-completions event stream into another dialect's stream, event by event, as
 * it arrives (nothing is buffered beyond one partial line). A translator sees each parsed chunk
 * and answers the events to send; at the end it may add closing events.
 */
export interface StreamTranslator {
  /** A checked `data:` payload: a chunk, or `{error}` when the stream broke or sent something else. */
  chunk(data: ChatChunk): string[]
  /** After `data: [DONE]` or the end of the stream. */
  end(): string[]
}

const encoder = new TextEncoder()

const NOT_A_CHUNK: ChatChunk = {
  error: {
    message: 'The upstream stream sent an event that is not a chat completion chunk',
    code: 'upstream_invalid',
  },
}

/** A chat event stream's text, rewritten line by line into the translator's dialect. */
export function lineTranslator(translator: StreamTranslator): TextRewrite {
  let buffered = ''
  let ended = false
  const line = (text: string): string => {
    const m = /^data:\s?(.*)$/.exec(text.trimEnd())
    if (!m || ended) return ''
    const payload = m[1] ?? ''
    if (payload === '[DONE]') {
      ended = true
      return translator.end().join('')
    }
    let data: unknown
    try {
      data = JSON.parse(payload)
    } catch {
      return '' // not JSON: nothing a chat stream sends on purpose
    }
    // JSON that is not a chunk (`null`, a tool call of null) ends the stream with the dialect's error.
    return translator.chunk(isChatChunk(data) ? data : NOT_A_CHUNK).join('')
  }
  return {
    push(text) {
      buffered += text
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      let out = ''
      for (const l of lines) out += line(l)
      return out
    },
    end() {
      let out = buffered ? line(buffered) : ''
      buffered = ''
      if (!ended) {
        ended = true
        out += translator.end().join('')
      }
      return out
    },
  }
}

/**
 * A stream translated as it arrives. The proxy rewrites a successful answer in the pass that relays
 * it (proxy/stream-guard.ts); this is for a body that did not go through it.
 */
export function translateStream(
  body: ReadableStream<Uint8Array>,
  translator: StreamTranslator,
): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder()
  const rewrite = lineTranslator(translator)
  const send = (controller: TransformStreamDefaultController<Uint8Array>, text: string) => {
    if (text) controller.enqueue(encoder.encode(text))
  }
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(bytes, controller) {
        send(controller, rewrite.push(decoder.decode(bytes, { stream: true })))
      },
      flush(controller) {
        send(controller, rewrite.push(decoder.decode()) + rewrite.end())
      },
    }),
  )
}

/** One server-sent event with a name, as the Responses and Messages APIs send them. */
export const namedEvent = (name: string, data: object): string =>
  `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`

/**
 * Which tool call a delta belongs to. Chat streams number them (`index`); where a provider leaves the
 * number out, a delta with a new id starts the next call and one without continues the last.
 */
export class CallIndexes {
  private last: { index: number; id: string | null | undefined } | undefined

  of(delta: ChatToolCallDelta): number {
    const last = this.last
    const index =
      typeof delta.index === 'number'
        ? delta.index
        : !last
          ? 0
          : delta.id && delta.id !== last.id
            ? last.index + 1
            : last.index
    if (!last || last.index !== index || delta.id) this.last = { index, id: delta.id ?? last?.id }
    return index
  }
}
