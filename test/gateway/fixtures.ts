/**
 * Error bodies exactly as providers and AI Gateway send them (shared/reference/provider-errors.md and
 * ai-gateway.md). Google's are pretty-printed on the wire, so they are re-serialised with indentation.
 */
const pretty = (value: unknown) => JSON.stringify(value, null, 2)

export const googleDaily429 = pretty({
  error: {
    code: 429,
    message:
      'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 20, model: gemini-2.5-flash-lite\nPlease retry in 59.628721472s.',
    status: 'RESOURCE_EXHAUSTED',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.Help',
        links: [
          {
            description: 'Learn more about Gemini API quotas',
            url: 'https://ai.google.dev/gemini-api/docs/rate-limits',
          },
        ],
      },
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
            quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
            quotaDimensions: { model: 'gemini-2.5-flash-lite', location: 'global' },
            quotaValue: '20',
          },
        ],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '59s' },
    ],
  },
})

export const googleMinute429 = pretty({
  error: {
    code: 429,
    message: 'You exceeded your current quota…',
    status: 'RESOURCE_EXHAUSTED',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_input_token_count',
            quotaId: 'GenerateContentInputTokensPerModelPerMinute-FreeTier',
            quotaDimensions: { location: 'global', model: 'gemini-2.0-flash' },
          },
          {
            quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
            quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
            quotaDimensions: { location: 'global', model: 'gemini-2.0-flash' },
          },
        ],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '57s' },
    ],
  },
})

export const googleInvalidKey = pretty({
  error: {
    code: 400,
    message: 'API key not valid. Please pass a valid API key.',
    status: 'INVALID_ARGUMENT',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'API_KEY_INVALID',
        domain: 'googleapis.com',
        metadata: { service: 'generativelanguage.googleapis.com' },
      },
      {
        '@type': 'type.googleapis.com/google.rpc.LocalizedMessage',
        locale: 'en-US',
        message: 'API key not valid. Please pass a valid API key.',
      },
    ],
  },
})

export const googleLeaked = pretty({
  error: {
    code: 403,
    message: 'Your API key was reported as leaked. Please use another API key.',
    status: 'PERMISSION_DENIED',
  },
})

export const googleSuspended = pretty({
  error: {
    code: 403,
    message: "Permission denied: Consumer 'api_key:AIza…' has been suspended.",
    status: 'PERMISSION_DENIED',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'CONSUMER_SUSPENDED',
        domain: 'googleapis.com',
        metadata: { service: 'generativelanguage.googleapis.com', consumer: 'projects/123' },
      },
    ],
  },
})

export const googleBadRequest = pretty({
  error: {
    code: 400,
    message: '* GenerateContentRequest.contents: contents is not specified\n',
    status: 'INVALID_ARGUMENT',
  },
})

export const googleOverloaded = pretty({
  error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' },
})

export const openaiInvalidKey =
  '{"error":{"message":"Incorrect API key provided: sk-proj-****. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}'
export const openaiRateLimit =
  '{"error":{"message":"Rate limit reached for gpt-4o-mini in organization org-xxx on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.","type":"requests","param":null,"code":"rate_limit_exceeded"}}'
export const openaiInsufficientQuota =
  '{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}'

export const anthropicInvalidKey =
  '{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_011"}'
export const anthropicRateLimit =
  '{"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed the rate limit for your organization of 20,000 input tokens per minute."},"request_id":"req_012"}'
export const anthropicOverloaded =
  '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_013"}'

export const gatewayUnauthorized =
  '{"success":false,"error":[{"code":2009,"message":"Unauthorized"}],"name":"AiGatewayError","httpCode":400,"internalCode":2009,"message":"Unauthorized"}'
export const gatewayByokMissing =
  '{"success":false,"result":[],"messages":[],"error":[{"code":2040,"message":"Provider \'google-ai-studio\' has no BYOK credential named \'x\'. Configured aliases: \'y\'"}],"name":"AiGatewayError","httpCode":400,"internalCode":2040,"message":"Provider \'google-ai-studio\' has no BYOK credential named \'x\'. Configured aliases: \'y\'"}'
/** Not captured on the wire; the gateway's rate limit is assumed to use its usual envelope. */
export const gatewayRateLimited =
  '{"success":false,"error":[{"code":2003,"message":"Rate limited"}],"name":"AiGatewayError","httpCode":429,"internalCode":2003,"message":"Rate limited"}'
