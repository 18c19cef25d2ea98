import type { FreeTier } from './free-tier'

/**
 * Google AI Studio's free tier, per project and model (ai.google.dev/gemini-api/docs/rate-limits).
 * These are the figures of Google's table as this project last read it; Google's page cannot be
 * reached from the machines keyrelay is built on, and Google has cut free-tier figures since without
 * notice (reported in December 2025 for the Flash models). The dashboard says so beside them, and
 * every figure can be set per model and key group (admin/limits.routes.ts): AI Studio shows each
 * project's real limits.
 */
export const GOOGLE_FREE_TIER: FreeTier = {
  readOn: '2025-09',
  source: 'https://ai.google.dev/gemini-api/docs/rate-limits',
  dayStartsIn: 'America/Los_Angeles',
  models: {
    'gemini-2.5-pro': { requestsPerMinute: 5, tokensPerMinute: 250_000, requestsPerDay: 100 },
    'gemini-2.5-flash': { requestsPerMinute: 10, tokensPerMinute: 250_000, requestsPerDay: 250 },
    'gemini-2.5-flash-lite': { requestsPerMinute: 15, tokensPerMinute: 250_000, requestsPerDay: 1000 },
    'gemini-2.0-flash': { requestsPerMinute: 15, tokensPerMinute: 1_000_000, requestsPerDay: 200 },
    'gemini-2.0-flash-lite': { requestsPerMinute: 30, tokensPerMinute: 1_000_000, requestsPerDay: 200 },
    'gemma-3-27b-it': { requestsPerMinute: 30, tokensPerMinute: 15_000, requestsPerDay: 14_400 },
    'gemini-embedding-001': { requestsPerMinute: 100, tokensPerMinute: 30_000, requestsPerDay: 1000 },
  },
}
