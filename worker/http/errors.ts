/**
 * One error model for everything keyrelay itself answers (STYLE.md §3). The body is OpenAI's error
 * shape plus a stable `code`, so OpenAI-style SDKs raise typed errors and scripts can match on code.
 * Upstream responses are never wrapped in this: they pass through as the provider sent them.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

const TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  413: 'invalid_request_error',
  429: 'rate_limit_error',
}

export interface ErrorBody {
  error: { message: string; type: string; code: string }
}

export function errorResponse(err: AppError): Response {
  const body: ErrorBody = {
    error: { message: err.message, type: TYPE_BY_STATUS[err.status] ?? 'api_error', code: err.code },
  }
  return Response.json(body, { status: err.status, headers: err.headers })
}
