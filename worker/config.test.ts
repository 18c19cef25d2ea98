import { expect, test } from 'vitest'
import { loadConfig, type Env } from './config'

const env = (vars: Record<string, string> = {}) =>
  ({
    AUTH_KEY: 'kr-config-test-key-0123456789',
    ENCRYPTION_KEY: 'kr-config-test-encryption-0123456789',
    ...vars,
  }) as unknown as Env

test('usage is flushed every 60 s by default: ten busy isolates fit the free plan’s D1 writes', () => {
  expect(loadConfig(env()).statsFlushMs).toBe(60_000)
  expect(loadConfig(env({ STATS_FLUSH_SECONDS: '5' })).statsFlushMs).toBe(5_000)
})

test('storm steering lasts 2 s after a verdict by default; 0 turns it off', () => {
  expect(loadConfig(env()).stormMs).toBe(2_000)
  expect(loadConfig(env({ STORM_SECONDS: '0' })).stormMs).toBe(0)
})
