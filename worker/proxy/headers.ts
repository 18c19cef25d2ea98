import { AppError } from '../http/errors'
import { ACCOUNT_HEADERS, CREDENTIAL_HEADERS } from '../providers/registry'

/** RFC 9110 §7.6.1 connection-specific headers, plus `expect`: they describe our hop, never the next. */
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
  // curl sends `Expect: 100-continue` by itself for bodies over 1 MiB; the interim 100 it asks for
  // is this hop's business (the body is already read), and upstream must not be asked for one.
  'expect',
])

/**
 * Added by Cloudflare's edge, by proxies in front of us, or by the client claiming to be one: they
 * describe (or spoof) our hop and the caller's address, which is nobody's business upstream.
 */
const EDGE = new Set([
  'host',
  'content-length',
  'cookie',
  'cf-connecting-ip',
  'cf-connecting-ipv6',
  'cf-pseudo-ipv4',
  'cf-ipcountry',
  'cf-ray',
  'cf-visitor',
  'cf-worker',
  'cf-ew-via',
  'cdn-loop',
  'forwarded',
  'true-client-ip',
  'x-real-ip',
  'x-client-ip',
  'client-ip',
  'x-cluster-client-ip',
  'x-original-forwarded-for',
  'fastly-client-ip',
])

/** One look-up for every header a client's request may not carry upstream (a name or a prefix). */
function dropped(name: string): boolean {
  return (
    HOP_BY_HOP.has(name) ||
    CREDENTIAL_HEADERS.has(name) ||
    ACCOUNT_HEADERS.has(name) ||
    EDGE.has(name) ||
    name.startsWith('x-forwarded-')
  )
}

/** Names listed in the client's own `Connection` header are hop-by-hop too (RFC 9110 §7.6.1). */
function connectionNamed(incoming: Headers): Set<string> {
  const named = (incoming.get('connection') ?? '').split(',').map((n) => n.trim().toLowerCase())
  return new Set(named.filter(Boolean))
}

/**
 * The client's headers as upstream may see them: no credentials, none that choose another account
 * than the pool key's (its answer must be about the key itself), no hop-by-hop or edge headers,
 * and of the gateway's `cf-aig-*` controls only those `allowedGateway` names (config.ts).
 * `cf-aig-metadata` is read separately (clientMetadata) and merged with keyrelay's own.
 */
export function upstreamHeaders(incoming: Headers, allowedGateway: ReadonlySet<string>): Headers {
  // Header names come lower-case from the runtime; a Connection header is rare (workerd keeps it
  // from Workers), so the names it lists are looked for only when there is one.
  const hop = incoming.has('connection') ? connectionNamed(incoming) : undefined
  const out = new Headers()
  for (const [name, value] of incoming) {
    if (dropped(name) || hop?.has(name)) continue
    if (name.startsWith('cf-aig-') && (!allowedGateway.has(name) || name === 'cf-aig-metadata')) continue
    out.set(name, value)
  }
  return out
}

export type Metadata = Record<string, string | number | boolean>

/** AI Gateway keeps at most five metadata entries; keyrelay's own take two (see callUpstream). */
export const CLIENT_METADATA_ENTRIES = 3
export const OWN_METADATA_PREFIX = 'keyrelay_'

/**
 * The client's `cf-aig-metadata`, when allowed: a JSON object of at most three string, number or
 * boolean values, none named like keyrelay's own. Anything else is refused, never silently cut.
 */
export function clientMetadata(incoming: Headers, allowedGateway: ReadonlySet<string>): Metadata {
  const raw = incoming.get('cf-aig-metadata')
  if (raw === null || !allowedGateway.has('cf-aig-metadata')) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    parsed = undefined
  }
  const entries =
    parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.entries(parsed) : null
  const ok =
    entries !== null &&
    entries.length <= CLIENT_METADATA_ENTRIES &&
    entries.every(
      ([k, v]) => !k.startsWith(OWN_METADATA_PREFIX) && ['string', 'number', 'boolean'].includes(typeof v),
    )
  if (!ok) {
    throw new AppError(
      400,
      'invalid_metadata',
      `cf-aig-metadata must be a JSON object of at most ${CLIENT_METADATA_ENTRIES} string, number or boolean values (keyrelay adds its own two of the gateway's five); names starting with "${OWN_METADATA_PREFIX}" are keyrelay's`,
    )
  }
  return Object.fromEntries(entries) as Metadata
}

/** Upstream's response headers minus hop-by-hop ones (those its Connection names too) and cookies. */
export function downstreamHeaders(upstream: Headers, dropLength = false): Headers {
  // A copy (one call into the runtime), then out with the few names that may not pass: cheaper than
  // walking every header in JavaScript, on the path of every answer.
  const out = new Headers(upstream)
  if (out.has('connection')) for (const name of connectionNamed(out)) out.delete(name)
  for (const name of HOP_BY_HOP) out.delete(name)
  out.delete('set-cookie')
  if (dropLength) out.delete('content-length')
  return out
}
