/**
 * A stand-in for Cloudflare AI Gateway at the network edge. It checks what the real gateway and
 * providers would (the URL lies under the gateway base and names a known provider, the provider key
 * sits in that provider's header) and that no AUTH_KEY is anywhere in what it receives. Each provider
 * key can be given a behaviour; keys without one answer successfully in the provider's own format.
 */
import { defaultReply } from './defaults'
import { requestRefusal } from './refusals'

export const GATEWAY_BASE = 'http://gateway.test/v1/0123456789abcdef0123456789abcdef/keyrelay'
/** Where the stand-in's webhook receiver listens (a Slack or Discord incoming-webhook URL, say). */
export const WEBHOOK_BASE = 'http://hooks.test/'

/** Which header carries the provider key, per the gateway's provider table (ai-gateway.md). */
const KEY_HEADER: Record<string, string> = {
  'google-ai-studio': 'x-goog-api-key',
  anthropic: 'x-api-key',
  'azure-openai': 'api-key',
  elevenlabs: 'xi-api-key',
  cartesia: 'x-api-key',
}

export interface SeenRequest {
  method: string
  url: string
  provider: string
  path: string
  key: string | undefined
  headers: Record<string, string>
  body: string
}

export type Behaviour = (req: SeenRequest, call: number) => Response | Promise<Response>

export class MockGateway {
  readonly requests: SeenRequest[] = []
  readonly violations: string[] = []
  private readonly behaviours = new Map<string, Behaviour>()
  private readonly calls = new Map<string, number>()
  /** Strings that must never reach the gateway (the deployment's AUTH_KEY secrets). */
  forbidden: string[] = []
  /** When set, the gateway itself answers every request this way (a refused token, a missing gateway). */
  refusal: (() => Response) | undefined
  /** A local webhook receiver (alerts): requests under WEBHOOK_BASE land here, answered `webhookStatus`. */
  readonly webhooks: { url: string; body: string }[] = []
  webhookStatus = 200

  /**
   * @param base the gateway base URL requests must fall under
   * @param label prefixed to generated text, so a demo's answers say where they came from
   */
  constructor(
    readonly base: string = GATEWAY_BASE,
    readonly label = '',
  ) {}

  /** Gives `key` a behaviour: a reply builder, or a function of the request and its call number. */
  on(key: string, behaviour: Behaviour): this {
    this.behaviours.set(key, behaviour)
    return this
  }

  callsFor(key: string): number {
    return this.calls.get(key) ?? 0
  }

  reset(): void {
    this.refusal = undefined
    this.webhooks.length = 0
    this.webhookStatus = 200
    this.requests.length = 0
    this.violations.length = 0
    this.behaviours.clear()
    this.calls.clear()
  }

  readonly handle = async (request: Request): Promise<Response> => {
    const body = await request.text()
    const url = new URL(request.url)
    const headers: Record<string, string> = {}
    request.headers.forEach((v, k) => (headers[k] = v))
    if (request.url.startsWith(WEBHOOK_BASE)) {
      this.webhooks.push({ url: request.url, body })
      return new Response(this.webhookStatus === 200 ? 'ok' : 'down', { status: this.webhookStatus })
    }
    const prefix = new URL(`${this.base}/`)
    if (url.origin !== prefix.origin || !url.pathname.startsWith(prefix.pathname)) {
      this.violations.push(`request outside the gateway base: ${url.origin}${url.pathname}`)
      return new Response('not the gateway', { status: 599 })
    }
    const [provider = '', ...rest] = url.pathname.slice(prefix.pathname.length).split('/')
    const keyHeader = KEY_HEADER[provider] ?? 'authorization'
    const rawKey = request.headers.get(keyHeader) ?? undefined
    const key = keyHeader === 'authorization' ? rawKey?.replace(/^Bearer /, '') : rawKey
    const seen: SeenRequest = {
      method: request.method,
      url: request.url,
      provider,
      path: rest.join('/'),
      key,
      headers,
      body,
    }
    this.requests.push(seen)

    if (this.refusal) return this.refusal()
    // keyrelay's setup check asks for a model list with no key on purpose (it spends nothing); the
    // provider refuses it, as OpenAI does.
    const setupProbe = (headers['cf-aig-metadata'] ?? '').includes('"keyrelay_probe":"setup"')
    if (setupProbe && !key) {
      return new Response(
        '{"error":{"message":"You didn\'t provide an API key.","type":"invalid_request_error","param":null,"code":null}}',
        { status: 401, headers: { 'content-type': 'application/json' } },
      )
    }
    if (!key) this.violations.push(`no provider key in ${keyHeader} for ${provider}`)
    if (provider === 'compat' && !/^[a-z-]+\/./.test(String(safeJson(body).model ?? ''))) {
      this.violations.push('compat request without a <provider>/<model> model')
    }
    const everything = [request.url, ...Object.values(headers), body].join('\n')
    for (const secret of this.forbidden) {
      if (everything.includes(secret))
        this.violations.push(`AUTH_KEY reached the gateway (${provider}/${seen.path})`)
    }

    const call = (this.calls.get(key ?? '') ?? 0) + 1
    this.calls.set(key ?? '', call)
    const behaviour = key ? this.behaviours.get(key) : undefined
    if (behaviour) return behaviour(seen, call)
    return requestRefusal(seen) ?? defaultReply(seen, this.label)
  }
}

function safeJson(text: string): Record<string, unknown> {
  try {
    const json: unknown = JSON.parse(text)
    return json && typeof json === 'object' ? (json as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}
