import type { Config } from '../config'

/** For the proxy's unit tests: the part of Config an upstream call reads, with test values. */
export const upstreamConfig = {
  gatewayToken: undefined,
  upstreamTimeoutMs: 1000,
  gatewayMaxAttempts: 1,
  gatewayNoWholesale: true,
  defaultCooldownSeconds: 60,
  creditCooldownSeconds: 3600,
} as Config
