import { requireGateway } from '../config'
import { authorize } from '../auth/client-auth'
import { PROVIDERS } from '../providers/registry'
import { dispatch } from '../proxy/dispatch'
import { readCompatBody } from './compat-body'
import { jsonBytes, jsonText } from './dialects/chat'
import { messagesToChat } from './dialects/messages'
import { anthropicDialect } from './dialects.routes'

/**
 * `POST /api/compat/messages/count_tokens`: Anthropic's token count, which Claude Code asks for
 * before it compacts a conversation. On Anthropic's own models Anthropic counts (its endpoint, a
 * pool key). On any other model keyrelay estimates, a quarter of the characters of the request as
 * Chat Completions, and says so in `x-keyrelay-estimate: true`: no other provider counts an
 * Anthropic-shaped request, and a guess about the size of a conversation is not worth a key's quota.
 */
export const compatCountTokens = anthropicDialect(async (scope, request) => {
  const gatewayBase = requireGateway(scope.config)
  const body = await readCompatBody(request, scope.config.maxBodyBytes)
  authorize(scope.entry, body.provider, body.model)
  const adapter = PROVIDERS[body.provider]
  if (adapter.messagesPath) {
    scope.clientHeaders.set('content-type', 'application/json')
    if (!scope.clientHeaders.has('anthropic-version'))
      scope.clientHeaders.set('anthropic-version', '2023-06-01')
    return dispatch(scope, {
      provider: body.provider,
      adapter,
      model: body.model,
      url: `${gatewayBase}/${body.provider}/${adapter.messagesPath}/count_tokens`,
      body: jsonBytes({ ...body.json, model: body.model }),
    })
  }
  const chat = messagesToChat(body.json, body.json.model)
  const characters = jsonText([chat.messages, chat.tools ?? []]).length
  return Response.json(
    { input_tokens: Math.max(1, Math.ceil(characters / 4)) },
    { headers: { 'x-keyrelay-estimate': 'true' } },
  )
})
