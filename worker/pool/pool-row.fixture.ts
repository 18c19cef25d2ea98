import type { PoolRow } from '../db/rows'

/** A pool row as D1 returns it (tests only): an active OpenAI key, tier 0, weight 1. */
export const poolRow = (id: number, over: Partial<PoolRow> = {}): PoolRow => ({
  id,
  provider: 'openai',
  key: `sk-${id}`,
  status: 'active',
  cooldowns: '{}',
  seq: 1,
  keyGroup: null,
  weight: 1,
  tier: 0,
  ...over,
})
