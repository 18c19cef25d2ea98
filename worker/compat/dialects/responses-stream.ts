/**
 * Chat-completion chunks → the Responses API's event sequence (`response.created`,
 * `response.output_item.added`, `response.output_text.delta`, `response.function_call_arguments.delta`,
 * the `…done` events, `response.completed`), as the `openai` SDK's `responses.stream()` and the
 * Vercel AI SDK read it. Stateful, one per stream; pure apart from the ids it makes.
 */
import { newId } from './chat'
import type { ChatChunk, ChatToolCallDelta, ChatUsage } from './shapes'
import {
  functionCallItem,
  messageItem,
  responseObject,
  responseStatus,
  responseUsage,
  type ResponseContext,
} from './responses'
import { CallIndexes, namedEvent, type StreamTranslator } from './sse'

interface OpenMessage {
  index: number
  id: string
  text: string
}
interface OpenCall {
  index: number
  id: string
  callId: string
  name: string
  args: string
}

export class ResponsesStream implements StreamTranslator {
  private seq = 0
  private started = false
  private finished = false
  private readonly output: Record<string, unknown>[] = []
  private message: OpenMessage | undefined
  private readonly calls = new Map<number, OpenCall>()
  private finish: string | null | undefined
  private usage: ChatUsage | undefined
  private readonly indexes = new CallIndexes()

  constructor(private readonly ctx: ResponseContext) {}

  private event(type: string, data: Record<string, unknown>): string {
    return namedEvent(type, { type, sequence_number: this.seq++, ...data })
  }

  private start(): string[] {
    if (this.started) return []
    this.started = true
    const response = responseObject(this.ctx, { status: 'in_progress', output: [], usage: null })
    return [this.event('response.created', { response }), this.event('response.in_progress', { response })]
  }

  chunk(chunk: ChatChunk): string[] {
    if (this.finished) return []
    const out = this.start()
    if (chunk.error) return [...out, ...this.fail(chunk.error)]
    if (chunk.usage) this.usage = chunk.usage
    const choice = chunk.choices?.[0]
    if (choice?.finish_reason) this.finish = choice.finish_reason
    const text = choice?.delta?.content
    if (typeof text === 'string' && text !== '') out.push(...this.text(text))
    for (const call of choice?.delta?.tool_calls ?? []) out.push(...this.toolCall(call))
    return out
  }

  private text(delta: string): string[] {
    const out: string[] = []
    if (!this.message) {
      const message = { index: this.output.length, id: newId('msg_'), text: '' }
      this.message = message
      this.output.push(messageItem(message.id, '', 'in_progress'))
      out.push(
        this.event('response.output_item.added', {
          output_index: message.index,
          item: { type: 'message', id: message.id, status: 'in_progress', role: 'assistant', content: [] },
        }),
        this.event('response.content_part.added', {
          item_id: message.id,
          output_index: message.index,
          content_index: 0,
          part: { type: 'output_text', text: '', annotations: [] },
        }),
      )
    }
    const m = this.message
    m.text += delta
    out.push(
      this.event('response.output_text.delta', {
        item_id: m.id,
        output_index: m.index,
        content_index: 0,
        delta,
        logprobs: [],
      }),
    )
    return out
  }

  private toolCall(delta: ChatToolCallDelta): string[] {
    const out: string[] = []
    const index = this.indexes.of(delta)
    let call = this.calls.get(index)
    if (!call) {
      // Items come one after another: a message being written is complete once a call starts.
      out.push(...this.closeMessage())
      const callId = delta.id ?? newId('call_')
      call = {
        index: this.output.length,
        id: `fc_${callId}`,
        callId,
        name: delta.function?.name ?? '',
        args: '',
      }
      this.calls.set(index, call)
      this.output.push(functionCallItem(call.id, call.callId, call.name, '', 'in_progress'))
      out.push(
        this.event('response.output_item.added', {
          output_index: call.index,
          item: functionCallItem(call.id, call.callId, call.name, '', 'in_progress'),
        }),
      )
    }
    const args = delta.function?.arguments
    if (args) {
      call.args += args
      out.push(
        this.event('response.function_call_arguments.delta', {
          item_id: call.id,
          output_index: call.index,
          delta: args,
        }),
      )
    }
    return out
  }

  private closeMessage(): string[] {
    const m = this.message
    if (!m) return []
    this.message = undefined
    const part = { type: 'output_text', text: m.text, annotations: [] }
    const item = messageItem(m.id, m.text)
    this.output[m.index] = item
    return [
      this.event('response.output_text.done', {
        item_id: m.id,
        output_index: m.index,
        content_index: 0,
        text: m.text,
        logprobs: [],
      }),
      this.event('response.content_part.done', {
        item_id: m.id,
        output_index: m.index,
        content_index: 0,
        part,
      }),
      this.event('response.output_item.done', { output_index: m.index, item }),
    ]
  }

  private closeCalls(): string[] {
    const out: string[] = []
    for (const call of this.calls.values()) {
      const item = functionCallItem(call.id, call.callId, call.name, call.args)
      this.output[call.index] = item
      out.push(
        this.event('response.function_call_arguments.done', {
          item_id: call.id,
          output_index: call.index,
          name: call.name,
          arguments: call.args,
        }),
        this.event('response.output_item.done', { output_index: call.index, item }),
      )
    }
    this.calls.clear()
    return out
  }

  private fail(error: NonNullable<ChatChunk['error']>): string[] {
    this.finished = true
    const code = String(error.code ?? error.type ?? 'server_error')
    const message = error.message ?? 'The upstream stream failed'
    const response = responseObject(this.ctx, {
      status: 'failed',
      output: this.output,
      usage: responseUsage(this.usage),
      error: { code, message },
    })
    return [this.event('error', { code, message, param: null }), this.event('response.failed', { response })]
  }

  end(): string[] {
    if (this.finished) return []
    this.finished = true
    const out = [...this.start(), ...this.closeMessage(), ...this.closeCalls()]
    const { status, incomplete } = responseStatus(this.finish)
    const response = responseObject(this.ctx, {
      status,
      incomplete,
      output: this.output,
      usage: responseUsage(this.usage),
    })
    out.push(this.event(status === 'completed' ? 'response.completed' : 'response.incomplete', { response }))
    return out
  }
}
