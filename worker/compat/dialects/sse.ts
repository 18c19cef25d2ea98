/**
 * Turns an OpenAI chat-completions event stream into another dialect's stream, event by event, as
 * it arrives (nothing is buffered beyond one partial line). A translator sees each parsed chunk
 * and answers the events to send; at the end it may add closing events.
 */
export interface StreamTranslator {
  /** A parsed `data:` payload (a chunk object, or `{error}` when the stream broke). */
  chunk(data: unknown): string[]
  /** After `data: [DONE]` or the end of the stream. */
  end(): string[]
}

const encoder = new TextEncoder()

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
    emit(controller, translator.chunk(data))
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
