/** A model's free-tier limits per project (per Google Cloud project, per account elsewhere). */
export interface ModelLimits {
  requestsPerMinute?: number
  tokensPerMinute?: number
  requestsPerDay?: number
}

/** A provider's published free-tier table, with when and where it was read (it changes). */
export interface FreeTier {
  /** When the figures were read: the dashboard shows it beside them. */
  readOn: string
  source: string
  /** Where a daily count restarts: Google's quotas at midnight Pacific. */
  dayStartsIn: 'America/Los_Angeles' | 'UTC'
  models: Record<string, ModelLimits>
}
