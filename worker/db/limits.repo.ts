import type { ModelLimits } from '../providers/free-tier'
import { all } from './meter'

/** One operator-set row of model_limits: group '' holds for every group of the provider. */
export interface LimitOverride extends ModelLimits {
  model: string
  group: string
}

export interface OverrideRow {
  model: string
  group: string
  requestsPerMinute: number | null
  tokensPerMinute: number | null
  requestsPerDay: number | null
}

const defined = (r: OverrideRow): LimitOverride => ({
  model: r.model,
  group: r.group,
  ...(r.requestsPerMinute !== null ? { requestsPerMinute: r.requestsPerMinute } : {}),
  ...(r.tokensPerMinute !== null ? { tokensPerMinute: r.tokensPerMinute } : {}),
  ...(r.requestsPerDay !== null ? { requestsPerDay: r.requestsPerDay } : {}),
})

/** The provider's overrides as a statement, so a batch can carry the read (pool/day-tally.ts). */
export function limitOverridesStatement(d1: D1Database, provider: string): D1PreparedStatement {
  return d1
    .prepare(
      `SELECT model, group_name AS "group", requests_per_minute AS requestsPerMinute,
         tokens_per_minute AS tokensPerMinute, requests_per_day AS requestsPerDay
       FROM model_limits WHERE provider = ?1 ORDER BY model, group_name`,
    )
    .bind(provider)
}

export const toOverrides = (rows: OverrideRow[]): LimitOverride[] => rows.map(defined)

export async function limitOverrides(d1: D1Database, provider: string): Promise<LimitOverride[]> {
  return toOverrides((await all<OverrideRow>(limitOverridesStatement(d1, provider))).results)
}

/** Sets a model's figures for a group ('' : every group); a figure given as null returns to the default. */
export async function setLimitOverride(
  d1: D1Database,
  provider: string,
  o: { model: string; group: string } & { [K in keyof ModelLimits]: number | null },
  now: number,
): Promise<void> {
  await all(
    d1
      .prepare(
        `INSERT INTO model_limits (provider, model, group_name, requests_per_minute, tokens_per_minute,
           requests_per_day, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (provider, model, group_name) DO UPDATE SET
           requests_per_minute = excluded.requests_per_minute, tokens_per_minute = excluded.tokens_per_minute,
           requests_per_day = excluded.requests_per_day, updated_at = excluded.updated_at`,
      )
      .bind(provider, o.model, o.group, o.requestsPerMinute, o.tokensPerMinute, o.requestsPerDay, now),
  )
}

export async function deleteLimitOverride(
  d1: D1Database,
  provider: string,
  model: string,
  group: string,
): Promise<boolean> {
  const r = await all(
    d1
      .prepare(
        'DELETE FROM model_limits WHERE provider = ?1 AND model = ?2 AND group_name = ?3 RETURNING model',
      )
      .bind(provider, model, group),
  )
  return r.results.length > 0
}
