/**
 * Chat-completion chunks → Anthropic's stream (`message_start`, `content_block_start`,
 * `content_block_delta` with `text_delta` or `input_json_delta`, `content_block_stop`,
 * `message_delta`, `message_stop`; `error` when the stream breaks), as the Anthropic SDK reads it.
 */
import { newId } from './chat'
import type { ChatChunk, ChatToolCallDelta, ChatUsage } from './shapes'
import { stopReason } from './messages'
import { CallIndexes, namedEvent, type StreamTranslator } from './sse'

type Block = { kind: 'text'; index: number } | { kind: 'tool'; index: number; chatIndex: number }

export class MessagesStream implements StreamTranslator {
  private started = false
  private finished = false
  private open: Block | undefined
  private blocks = 0
  private finish: string | null | undefined
  private usage: ChatUsage | undefined
  private readonly indexes = new CallIndexes()

  constructor(private readonly model: string) {}

  private start(): string[] {
    if (this.started) return []
    this.started = true
    return [
      namedEvent('message_start', {
        type: 'message_start',
        message: {
          id: newId('msg_'),
          type: 'message',
          role: 'assistant',
          model: this.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      }),
    ]
  }

  chunk(chunk: ChatChunk): string[] {
    if (this.finished) return []
    const out = this.start()
    if (chunk.error) {
      this.finished = true
      const message = chunk.error.message ?? 'The upstream stream failed'
      return [...out, namedEvent('error', { type: 'error', error: { type: 'api_error', message } })]
    }
    if (chunk.usage) this.usage = chunk.usage
    const choice = chunk.choices?.[0]
    if (choice?.finish_reason) this.finish = choice.finish_reason
    const text = choice?.delta?.content
    if (typeof text === 'string' && text !== '') {
      if (this.open?.kind !== 'text')
        out.push(...this.openBlock({ kind: 'text', index: this.blocks }, { type: 'text', text: '' }))
      out.push(this.delta({ type: 'text_delta', text }))
    }
    for (const call of choice?.delta?.tool_calls ?? []) out.push(...this.toolCall(call))
    return out
  }

  private toolCall(call: ChatToolCallDelta): string[] {
    const out: string[] = []
    const chatIndex = this.indexes.of(call)
    if (this.open?.kind !== 'tool' || this.open.chatIndex !== chatIndex) {
      out.push(
        ...this.openBlock(
          { kind: 'tool', index: this.blocks, chatIndex },
          { type: 'tool_use', id: call.id ?? newId('toolu_'), name: call.function?.name ?? '', input: {} },
        ),
      )
    }
    const args = call.function?.arguments
    if (args) out.push(this.delta({ type: 'input_json_delta', partial_json: args }))
    return out
  }

  private openBlock(block: Block, contentBlock: object): string[] {
    const out = this.closeBlock()
    this.open = block
    this.blocks++
    out.push(
      namedEvent('content_block_start', {
        type: 'content_block_start',
        index: block.index,
        content_block: contentBlock,
      }),
    )
    return out
  }

  private delta(delta: object): string {
    return namedEvent('content_block_delta', {
      type: 'content_block_delta',
      index: this.open?.index ?? 0,
      delta,
    })
  }

  private closeBlock(): string[] {
    if (!this.open) return []
    const index = this.open.index
    this.open = undefined
    return [namedEvent('content_block_stop', { type: 'content_block_stop', index })]
  }

  end(): string[] {
    if (this.finished) return []
    this.finished = true
    return [
      ...this.start(),
      ...this.closeBlock(),
      namedEvent('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: stopReason(this.finish), stop_sequence: null },
        usage: {
          input_tokens: this.usage?.prompt_tokens ?? 0,
          output_tokens: this.usage?.completion_tokens ?? 0,
        },
      }),
      namedEvent('message_stop', { type: 'message_stop' }),
    ]
  }
}
