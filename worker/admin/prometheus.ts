import { DURATION_BOUNDS_MS, DURATION_COLUMNS } from '../db/durations'
import type { MetricRow, PoolStates } from '../db/metrics.repo'

/**
 * The Prometheus text exposition format (0.0.4) of keyrelay's totals. Labels are bounded: providers
 * are a fixed list and models are capped per provider by the stats buffer (the rest count as
 * `(other)`); a key id appears only in the per-key series, which the operator turns on.
 */

type Labels = Record<string, string | number>

/** Backslash, double quote and line feed are the characters a label value must escape. */
const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escape(String(v))}"`)
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`
}

class Exposition {
  private readonly lines: string[] = []

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
  }

  sample(name: string, labels: Labels, value: number): void {
    this.lines.push(`${name}${labelText(labels)} ${Number.isFinite(value) ? value : 0}`)
  }

  text(): string {
    return `${this.lines.join('\n')}\n`
  }
}

const n = (row: MetricRow, column: string) => Number(row[column] ?? 0)

const OUTCOMES: [string, string][] = [
  ['ok', 'requests_ok'],
  ['client_error', 'requests_client_error'],
  ['rate_limited', 'requests_limited'],
  ['failed', 'requests_failed'],
]
const ATTEMPT_OUTCOMES: [string, string][] = [
  ['success', 'successes'],
  ['rate_limited', 'rate_limited'],
  ['error', 'errors'],
]
const TOKEN_TYPES: [string, string][] = [
  ['input', 'input_tokens'],
  ['output', 'output_tokens'],
  ['cached', 'cached_tokens'],
]

export function exposition(rows: MetricRow[], pool: PoolStates, scrape: { rowsRead: number }): string {
  const out = new Exposition()
  const models = rows.filter((r) => Number(r.key_id) === 0)
  const keys = rows.filter((r) => Number(r.key_id) !== 0)
  const modelLabels = (r: MetricRow) => ({ provider: r.provider, model: r.model })

  out.family('keyrelay_requests_total', 'counter', "Clients' requests by what keyrelay answered.")
  for (const r of models) {
    for (const [outcome, c] of OUTCOMES)
      out.sample('keyrelay_requests_total', { ...modelLabels(r), outcome }, n(r, c))
  }

  out.family(
    'keyrelay_request_duration_seconds',
    'histogram',
    'Time until keyrelay had the answer to send (its headers; a JSON answer up to 256 KB read whole).',
  )
  for (const r of models) {
    let cumulative = 0
    DURATION_BOUNDS_MS.forEach((bound, i) => {
      cumulative += n(r, DURATION_COLUMNS[i] as string)
      out.sample(
        'keyrelay_request_duration_seconds_bucket',
        { ...modelLabels(r), le: bound / 1000 },
        cumulative,
      )
    })
    cumulative += n(r, 'ms_over')
    out.sample('keyrelay_request_duration_seconds_bucket', { ...modelLabels(r), le: '+Inf' }, cumulative)
    out.sample('keyrelay_request_duration_seconds_sum', modelLabels(r), n(r, 'duration_ms_sum') / 1000)
    out.sample('keyrelay_request_duration_seconds_count', modelLabels(r), cumulative)
  }

  out.family(
    'keyrelay_upstream_attempts_total',
    'counter',
    'Calls to the provider with a pool key, by answer.',
  )
  for (const r of models) {
    for (const [outcome, c] of ATTEMPT_OUTCOMES) {
      out.sample('keyrelay_upstream_attempts_total', { ...modelLabels(r), outcome }, n(r, c))
    }
  }

  out.family(
    'keyrelay_key_blocks_total',
    'counter',
    'Keys blocked on proof (a dead-key answer or a failed check).',
  )
  for (const r of models) out.sample('keyrelay_key_blocks_total', modelLabels(r), n(r, 'blocks'))

  out.family(
    'keyrelay_tokens_total',
    'counter',
    'Tokens the answers reported (cached ones are part of input).',
  )
  for (const r of models) {
    for (const [type, c] of TOKEN_TYPES)
      out.sample('keyrelay_tokens_total', { ...modelLabels(r), type }, n(r, c))
  }

  out.family('keyrelay_keys', 'gauge', 'Pool keys by state (blocked keys are out until restored).')
  for (const p of pool.providers) {
    out.sample('keyrelay_keys', { provider: p.provider, state: 'active' }, p.total - p.blocked)
    out.sample('keyrelay_keys', { provider: p.provider, state: 'blocked' }, p.blocked)
  }
  out.family(
    'keyrelay_keys_cooling',
    'gauge',
    'Active keys cooling down for a model (model "*": for every model, e.g. out of credit).',
  )
  for (const c of pool.cooling)
    out.sample('keyrelay_keys_cooling', { provider: c.provider, model: c.model }, c.keys)

  if (keys.length > 0) {
    out.family(
      'keyrelay_key_attempts_total',
      'counter',
      'Calls with one pool key, by answer (METRICS_PER_KEY).',
    )
    for (const r of keys) {
      for (const [outcome, c] of ATTEMPT_OUTCOMES) {
        out.sample(
          'keyrelay_key_attempts_total',
          { provider: r.provider, key_id: r.key_id, outcome },
          n(r, c),
        )
      }
    }
    out.family(
      'keyrelay_key_tokens_total',
      'counter',
      'Tokens the answers to one pool key reported (METRICS_PER_KEY).',
    )
    for (const r of keys) {
      for (const [type, c] of TOKEN_TYPES) {
        out.sample('keyrelay_key_tokens_total', { provider: r.provider, key_id: r.key_id, type }, n(r, c))
      }
    }
  }

  out.family('keyrelay_metrics_scrape_d1_rows_read', 'gauge', 'D1 rows this scrape read.')
  out.sample('keyrelay_metrics_scrape_d1_rows_read', {}, scrape.rowsRead)
  return out.text()
}
