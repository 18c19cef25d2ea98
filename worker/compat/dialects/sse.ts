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

export function translateStream(
  body: ReadableStream<Uint8Array>,
  translator: StreamTranslator,
): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder()
  let buffered = ''
  let ended = false
  const emit = (controller: TransformStreamDefaultController<Uint8Array>, events: string[]) => {
    if (events.length > 0) controller.enqueue(encoder.encode(events.join('')))
  }
  const line = (controller: TransformStreamDefaultController<Uint8Array>, text: string) => {
    const m = /^data:\s?(.*)$/.exec(text.trimEnd())
    if (!m || ended) return
    const payload = m[1] ?? ''
    if (payload === '[DONE]') {
      ended = true
      emit(controller, translator.end())
      return
    }
    let data: unknown
    try {
      data = JSON.parse(payload)
    } catch {
      return // not JSON: nothing a chat stream sends on purpose
    }
    // JSON that is not a chunk (`null`, a tool call of null) ends the stream with the dialect's error.
    emit(controller, translator.chunk(isChatChunk(data) ? data : NOT_A_CHUNK))
  }
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(bytes, controller) {
        buffered += decoder.decode(bytes, { stream: true })
        const lines = buffered.split('\n')
        buffered = lines.pop() ?? ''
        for (const l of lines) line(controller, l)
      },
      flush(controller) {
        if (buffered) line(controller, buffered)
        if (!ended) emit(controller, translator.end())
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
