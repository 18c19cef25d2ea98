// The JSON admin API, with the session cookie. Errors carry keyrelay's stable code.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** Why something failed, in words a person reads: never the server's raw validation text. */
const REASONS = {
  invalid_body: 'the request was not accepted',
  invalid_json: 'the request was not accepted',
  invalid_query: 'the request was not accepted',
  invalid_key: 'one of the entries is not a key (no spaces inside, at most 1 KB)',
  body_too_large: 'it is too large for one request',
  storage_unavailable: 'the key store is unavailable; try again in a moment',
  session_expired: 'your session has ended; log in again',
  missing_auth_key: 'your session has ended; log in again',
  bad_origin: 'the change did not come from this page',
  auth_throttled: 'there were too many failed attempts; wait a little',
  key_not_found: 'that key no longer exists',
  client_not_found: 'that client key no longer exists',
  limit_not_found: 'no limits of yours are set for that model and group',
  invalid_model: 'that is not a model name',
  invalid_allow: 'the allowed models are not in the form provider,model&provider',
  config_invalid: "the deployment's configuration is invalid (see the setup panel)",
  internal_error: 'the server ran into an error',
}

/** "Could not delete the keys: the request was not accepted." */
export function explain(error, doing) {
  const reason = REASONS[error?.code] ?? `the server answered ${error?.status ?? 'with an error'}`
  return `Could not ${doing}: ${reason}.`
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
