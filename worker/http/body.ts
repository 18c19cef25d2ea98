import { AppError } from './errors'

/**
 * Reads a body keyrelay is going to parse, refusing it once it passes `maxBytes` (MAX_BODY_MB): a
 * declared length is refused before a byte is read, a chunked one as soon as it grows too large.
 */
export async function readBody(request: Request, maxBytes: number): Promise<ArrayBuffer> {
  const declared = Number(request.headers.get('content-length') ?? NaN)
  if (declared > maxBytes || !request.body) {
    if (declared > maxBytes) throw tooLarge(maxBytes)
    return new ArrayBuffer(0)
  }
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel()
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

function tooLarge(maxBytes: number): AppError {
  const mb = Math.round(maxBytes / (1024 * 1024))
  return new AppError(413, 'body_too_large', `The request body is over ${mb} MB (MAX_BODY_MB)`)
}
