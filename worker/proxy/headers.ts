import { CREDENTIAL_HEADERS } from '../providers/registry'

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/** Headers a client must not set for us: the gateway's own credential and its same-key retries. */
const GATEWAY_CONTROLLED = new Set([
  'cf-aig-authorization',
  'cf-aig-max-attempts',
  'cf-aig-retry-delay',
  'cf-aig-backoff',
  'cf-aig-byok-alias',
])

/** Added by Cloudflare's edge or by proxies in front of us; they describe our hop, not upstream's. */
const EDGE =
  /^(host|content-length|cookie|cf-connecting-ip|cf-ipcountry|cf-ray|cf-visitor|cf-worker|cdn-loop|x-forwarded-.*|x-real-ip)$/

/** The client's headers minus credentials, hop-by-hop and edge headers. */
export function upstreamHeaders(incoming: Headers): Headers {
  const out = new Headers()
  incoming.forEach((value, name) => {
    const lower = name.toLowerCase()
    if (
      HOP_BY_HOP.has(lower) ||
      CREDENTIAL_HEADERS.has(lower) ||
      GATEWAY_CONTROLLED.has(lower) ||
      EDGE.test(lower)
    ) {
      return
    }
    out.set(name, value)
  })
  return out
}

/** Upstream's response headers minus hop-by-hop ones and cookies. */
export function downstreamHeaders(upstream: Headers, dropLength = false): Headers {
  const out = new Headers()
  upstream.forEach((value, name) => {
    const lower = name.toLowerCase()
    if (HOP_BY_HOP.has(lower) || lower === 'set-cookie' || (dropLength && lower === 'content-length')) return
    out.append(name, value)
  })
  return out
}
