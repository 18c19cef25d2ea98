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

/**
 * A counter family with a sample per row and per (label value, column) pair: `outcome="ok"` from
 * `requests_ok`, and so on.
 */
function counters(
  out: Exposition,
  family: { name: string; help: string; label: string; pairs: [string, string][] },
  rows: MetricRow[],
  labelsOf: (r: MetricRow) => Labels,
): void {
  out.family(family.name, 'counter', family.help)
  for (const r of rows) {
    for (const [value, column] of family.pairs) {
      out.sample(family.name, { ...labelsOf(r), [family.label]: value }, n(r, column))
    }
  }
}

export function exposition(rows: MetricRow[], pool: PoolStates, scrape: { rowsRead: number }): string {
  const out = new Exposition()
  const models = rows.filter((r) => Number(r.key_id) === 0)
  const keys = rows.filter((r) => Number(r.key_id) !== 0)
  const modelLabels = (r: MetricRow) => ({ provider: r.provider, model: r.model })
  const keyLabels = (r: MetricRow) => ({ provider: r.provider, key_id: r.key_id })

  counters(
    out,
    {
      name: 'keyrelay_requests_total',
      help: "Clients' requests by what keyrelay answered.",
      label: 'outcome',
      pairs: OUTCOMES,
    },
    models,
    modelLabels,
  )

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

  const attempts = {
    name: 'keyrelay_upstream_attempts_total',
    help: 'Calls to the provider with a pool key, by answer.',
    label: 'outcome',
    pairs: ATTEMPT_OUTCOMES,
  }
  counters(out, attempts, models, modelLabels)
  out.family(
    'keyrelay_key_blocks_total',
    'counter',
    'Keys blocked on proof (a dead-key answer or a failed check).',
  )
  for (const r of models) out.sample('keyrelay_key_blocks_total', modelLabels(r), n(r, 'blocks'))
  const tokens = {
    name: 'keyrelay_tokens_total',
    help: 'Tokens the answers reported (cached ones are part of input).',
    label: 'type',
    pairs: TOKEN_TYPES,
  }
  counters(out, tokens, models, modelLabels)

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
  for (const c of pool.cooling) {
    out.sample('keyrelay_keys_cooling', { provider: c.provider, model: c.model }, c.keys)
  }

  if (keys.length > 0) {
    const perKey = ' (one pool key; METRICS_PER_KEY).'
    counters(
      out,
      { ...attempts, name: 'keyrelay_key_attempts_total', help: `Calls by answer${perKey}` },
      keys,
      keyLabels,
    )
    counters(
      out,
      { ...tokens, name: 'keyrelay_key_tokens_total', help: `Tokens reported${perKey}` },
      keys,
      keyLabels,
    )
  }

  out.family('keyrelay_metrics_scrape_d1_rows_read', 'gauge', 'D1 rows this scrape read.')
  out.sample('keyrelay_metrics_scrape_d1_rows_read', {}, scrape.rowsRead)
  return out.text()
}
