import { AppError } from './errors'

/**
 * How much of a refused body is read and thrown away before the 413 goes out. A client still sending
 * when the answer comes and the connection closes gets a reset instead of the 413 (`write
 * ECONNRESET`, which SDKs retry), and a Worker cannot read the body once it has answered: measured
 * locally, answering first and draining in the background still reset one upload in six, draining
 * first none. Cloudflare itself refuses bodies over 100 MB (Free and Pro plans), so a body the
 * Worker can be sent at all is drained: nothing of it is kept, and the reads cost a few
 * milliseconds at most. Only a body declared beyond that is answered without reading.
 */
const DRAIN_BYTES = 100 * 1024 * 1024

/**
 * Reads a body keyrelay is going to parse, refusing it once it passes `maxBytes` (MAX_BODY_MB): a
 * declared length is refused before a byte is kept, a chunked one as soon as it grows too large.
 */
export async function readBody(request: Request, maxBytes: number): Promise<ArrayBuffer> {
  const declared = Number(request.headers.get('content-length') ?? NaN)
  if (!request.body) {
    if (declared > maxBytes) throw tooLarge(maxBytes)
    return new ArrayBuffer(0)
  }
  // A declared length within the limit is the whole body (HTTP framing ends it there): read in one
  // call into the runtime, not chunk by chunk through JavaScript, as every SDK's JSON request is.
  if (declared <= maxBytes) return request.arrayBuffer()
  const reader = request.body.getReader()
  if (declared > maxBytes) {
    // Refused before a byte is kept; read to its end (up to DRAIN_BYTES) so the 413 arrives cleanly.
    await drain(reader, declared <= DRAIN_BYTES ? declared : 0)
    throw tooLarge(maxBytes)
  }
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await drain(reader, DRAIN_BYTES - size)
      throw tooLarge(maxBytes)
    }
    chunks.push(value)
  }
  const out = new Uint8Array(size)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.byteLength
  }
  return out.buffer
}

/**
 * How much of an unread body is read and thrown away when a request is refused before its body was
 * needed (a wrong key, an unknown route): the largest body MAX_BODY_MB allows, so any client keyrelay
 * would have served gets its answer on a connection it can use again.
 */
const REFUSED_DRAIN_BYTES = 100 * 1024 * 1024

/**
 * Workerd closes a connection whose request body was never read, and an SDK that sends its next
 * request on it (they keep connections alive) gets "other side closed" or ECONNRESET. So a refused
 * request's body is read to its end first (within REFUSED_DRAIN_BYTES), as readBody does for a 413.
 */
export async function discardUnread(request: Request): Promise<void> {
  if (!request.body || request.bodyUsed) return
  const declared = Number(request.headers.get('content-length') ?? NaN)
  if (declared > REFUSED_DRAIN_BYTES) return
  await drain(request.body.getReader(), REFUSED_DRAIN_BYTES)
}

/** Reads and discards up to `budget` more bytes, then lets go of the rest. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, budget: number): Promise<void> {
  try {
    for (let left = budget; left > 0;) {
      const { done, value } = await reader.read()
      if (done) return
      left -= value.byteLength
    }
    await reader.cancel()
  } catch {
    // The client went away: nothing left to answer.
  }
}

function tooLarge(maxBytes: number): AppError {
  const mb = Math.round(maxBytes / (1024 * 1024))
  return new AppError(413, 'body_too_large', `The request body is over ${mb} MB (MAX_BODY_MB)`)
}
