// The JSON admin API, with the session cookie. Errors carry keyrelay's stable code.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

export async function api(path, { method = 'GET', body } = {}) {
  const res = await fetch(`/admin/api${path}`, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!res.ok) {
    const data = await res.json().catch(() => ({}))
    throw new ApiError(res.status, data.error?.code ?? 'error', data.error?.message ?? `HTTP ${res.status}`)
  }
  const type = res.headers.get('content-type') ?? ''
  return type.includes('application/json') ? res.json() : res.text()
}

/** Runs a check over many keys, batch after batch, reporting progress. */
export async function checkAll(first, onProgress) {
  const results = []
  let body = first
  let total
  while (body) {
    const answer = await api('/keys/check', { method: 'POST', body })
    results.push(...answer.results)
    total ??= answer.results.length + answer.remaining
    onProgress(results.length, total)
    body = answer.next
  }
  return results
}
