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

// Answers about the request, not the key (shared/reference/provider-errors.md): each is a 401, 402,
// 403 or 400 that a client's own request draws while the key is healthy.

/** Google, a file the key's project cannot see (the file's name is the request's). */
export const googleFileDenied = (file: string) =>
  pretty({
    error: {
      code: 403,
      message: `You do not have permission to access the File ${file} or it may not exist.`,
      status: 'PERMISSION_DENIED',
    },
  })

/** Google, cached content of another project: a bare PERMISSION_DENIED that names no cause a key has. */
export const googleCachedContentDenied = pretty({
  error: {
    code: 403,
    message: 'CachedContent not found (or permission denied)',
    status: 'PERMISSION_DENIED',
  },
})

export const openaiModelNotFound = (model: string) =>
  JSON.stringify({
    error: {
      message: `Project \`proj_abc\` does not have access to model \`${model}\``,
      type: 'invalid_request_error',
      param: null,
      code: 'model_not_found',
    },
  })

export const openaiMismatchedOrganization =
  '{"error":{"message":"OpenAI-Organization header should match organization for API key","type":"invalid_request_error","param":null,"code":"mismatched_organization"}}'

export const anthropicPermission =
  '{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."}}'

/** Anthropic quotes unknown `anthropic-beta` values back, inside its message. */
export const anthropicUnknownBeta = (values: string) =>
  JSON.stringify({
    type: 'error',
    error: {
      type: 'invalid_request_error',
      message: `Unexpected value(s) \`${values}\` for the \`anthropic-beta\` header. Please consult our documentation at docs.anthropic.com or try again without the header.`,
    },
  })

/** The real empty-balance answer: a 400 whose message begins with the provider's sentence. */
export const anthropicLowCredit =
  '{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}}'

/** OpenRouter, a request bigger than the balance: the caller can ask for fewer tokens. */
export const openrouterCannotAfford = (requested: number, affordable: number) =>
  JSON.stringify({
    error: {
      message: `This request requires more credits, or fewer max_tokens. You requested up to ${requested} tokens, but can only afford ${affordable}. To increase, visit https://openrouter.ai/settings/credits and add more credits`,
      code: 402,
    },
  })

/** OpenRouter, the account is empty. */
export const openrouterNoCredits =
  '{"error":{"code":402,"message":"Insufficient credits. Add more using https://openrouter.ai/credits"}}'

/** OpenRouter, a key that no longer exists: a 401 with no code that names the key. */
export const openrouterUserNotFound = '{"error":{"message":"User not found.","code":401}}'
