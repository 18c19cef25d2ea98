import { describe, expect, test } from 'vitest'
import type { AdminRow } from '../db/rows'
import type { StatsRow } from '../db/stats.repo'
import { modelHealth, returningByHour } from './pool-health'

const NOW = 1_800_000_000 // on the hour (divisible by 3600)
const row = (
  id: number,
  cooldowns: Record<string, number>,
  status: AdminRow['status'] = 'active',
): AdminRow => ({ id, provider: 'openai', status, cooldowns: JSON.stringify(cooldowns) }) as AdminRow
const traffic = (model: string, requests = 1) => ({ provider: 'openai', model, requests }) as StatsRow

describe('pool health', () => {
  test('a cooldown for every model makes a key unusable for each model; an expired one does not', () => {
    const rows = [row(1, { '*': NOW + 60 }), row(2, { 'gpt-4o': NOW - 1 }), row(3, {}, 'blocked')]
    expect(modelHealth(rows, [traffic('gpt-4o'), traffic('gpt-4o-mini')], NOW).get('openai')).toEqual({
      models: [
        { model: 'gpt-4o', usable: 1, total: 3 },
        { model: 'gpt-4o-mini', usable: 1, total: 3 },
      ],
      more: 0,
    })
  })

  test('the 20 busiest models are shown, the rest counted', () => {
    const usage = Array.from({ length: 500 }, (_, i) => traffic(`m-${i}`, i === 7 ? 1000 : 1))
    const health = modelHealth([row(1, {})], usage, NOW).get('openai')!
    expect(health.models).toHaveLength(20)
    expect(health.models.map((m) => m.model)).toContain('m-7')
    expect(health.more).toBe(480)
  })

  test('returns within 24 hours only, by hour, each key once per hour; blocked keys never return', () => {
    const rows = [
      row(1, { 'gpt-4o': NOW + 100, 'gpt-4o-mini': NOW + 200 }),
      row(2, { 'gpt-4o': NOW + 3600 + 5 }),
      row(3, { 'gpt-4o': NOW + 25 * 3600 }),
      row(4, { 'gpt-4o': NOW + 100 }, 'blocked'),
      row(5, { 'gpt-4o': NOW - 100 }),
    ]
    expect(returningByHour(rows, NOW).get('openai')).toEqual([
      { hour: NOW, keys: 1, models: { 'gpt-4o': 1, 'gpt-4o-mini': 1 } },
      { hour: NOW + 3600, keys: 1, models: { 'gpt-4o': 1 } },
    ])
  })
})
