/**
 * Several Worker instances (workerd each) on one local D1, as Cloudflare runs many isolates of one
 * Worker, in front of one upstream handler that is told which instance called, with Google keys
 * added once. The client-quota and conversation scenarios start theirs here.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startWorker, type Harness } from '../test/harness'

export const FLEET_AUTH = 'bench-auth-key'
const BASE = 'http://bench-gateway.test/v1/0123456789abcdef0123456789abcdef/bench'

export async function fleet(
  n: number,
  keys: string[],
  handle: (request: Request, isolate: number) => Promise<Response>,
): Promise<Harness[]> {
  const dir = mkdtempSync(join(tmpdir(), 'keyrelay-fleet-'))
  const start = (i: number) =>
    startWorker({
      deployedDefaults: true,
      authKey: FLEET_AUTH,
      d1Persist: dir,
      applyMigrations: i === 0,
      upstream: { base: BASE, handle: (r) => handle(r, i) },
      assets: false,
    })
  const first = await start(0)
  if (keys.length > 0) await first.addKeys('google-ai-studio', keys)
  const rest = await Promise.all(Array.from({ length: n - 1 }, (_, i) => start(i + 1)))
  return [first, ...rest]
}
