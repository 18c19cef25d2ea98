/**
 * `pnpm bench:profile` (`pnpm profile` is npm's own command): where keyrelay's Worker spends its CPU on the routes people use most, from a V8 CPU
 * profile of the real Worker in workerd (Miniflare's inspector proxy), under load against the
 * benchmark's upstream. Prints self time per function of the Worker's own code, and the share of
 * the isolate's busy time spent in it, per route. `--save DIR` also writes each .cpuprofile (open it
 * in Chrome DevTools' Performance panel).
 */
import { createRequire } from 'node:module'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildWorker } from '../test/build'
import { startWorker } from '../test/harness'
import { BENCH_GATEWAY, benchGateway } from './gateway'
import { call, drive } from './lib'
import { ROUTES, type BenchRoute } from './routes'

// `ws` comes with Miniflare; Node 20 has no WebSocket client without a flag.
const WebSocket = createRequire(createRequire(import.meta.url).resolve('miniflare'))('ws') as new (
  url: string,
) => {
  on(event: 'open' | 'message' | 'error', listener: (data: unknown) => void): void
  send(data: string): void
  close(): void
}

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

const AUTH = 'bench-auth-key'
const PORT = 9339
const REQUESTS = Number(process.env.PROFILE_REQUESTS ?? 3000)

/** A minimal DevTools-protocol client: send a method, await its result. */
async function inspector(url: string) {
  const socket = new WebSocket(url)
  const pending = new Map<number, (result: unknown) => void>()
  let id = 0
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown }
    if (message.id !== undefined) pending.get(message.id)?.(message.result)
  })
  await new Promise<void>((resolve, reject) => {
    socket.on('open', () => resolve())
    socket.on('error', reject)
  })
  return {
    send: <T>(method: string, params: object = {}) =>
      new Promise<T>((resolve) => {
        const n = ++id
        pending.set(n, resolve as (r: unknown) => void)
        socket.send(JSON.stringify({ id: n, method, params }))
      }),
    close: () => socket.close(),
  }
}

/** Self time per function (µs), from the samples and their time deltas. */
function selfTimes(profile: Profile): Map<ProfileNode, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<ProfileNode, number>()
  profile.samples.forEach((nodeId, i) => {
    const node = byId.get(nodeId)
    if (node) self.set(node, (self.get(node) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  return self
}

function summarise(route: BenchRoute, profile: Profile): void {
  const self = selfTimes(profile)
  const grouped = new Map<string, number>()
  let busy = 0
  let own = 0
  for (const [node, micros] of self) {
    const f = node.callFrame
    if (['(idle)', '(program)', '(garbage collector)'].includes(f.functionName)) {
      if (f.functionName === '(garbage collector)') busy += micros
      continue
    }
    busy += micros
    const ours = f.url.includes('keyrelay') || (f.url.endsWith('.js') && !f.url.startsWith('node:'))
    if (ours) own += micros
    const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`
    grouped.set(name, (grouped.get(name) ?? 0) + micros)
  }
  console.log(
    `\n${route.name}: ${REQUESTS} requests; JavaScript busy ${(busy / REQUESTS).toFixed(0)} µs a request`,
  )
  for (const [name, micros] of [...grouped].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(`  ${(micros / REQUESTS).toFixed(1).padStart(7)} µs  ${name}`)
  }
  void own
}

async function main(): Promise<void> {
  const save = process.argv.includes('--save') ? process.argv[process.argv.indexOf('--save') + 1] : undefined
  const only = process.argv.find((a) => ROUTES.some((r) => r.name === a))
  const gw = benchGateway(2, 5, 0)
  // The Worker as the code is now: the bundle the tests last built may be of other code.
  await buildWorker()
  const h = await startWorker({
    deployedDefaults: true,
    authKey: AUTH,
    upstream: { base: BENCH_GATEWAY, handle: gw.handle },
    inspectorPort: PORT,
  })
  await h.addKeys(
    'google-ai-studio',
    Array.from({ length: 1000 }, (_, i) => `AIzaSyBENCH-${String(i).padStart(8, '0')}`),
  )
  const cdp = await inspector(`ws://127.0.0.1:${PORT}/keyrelay`)
  await cdp.send('Profiler.enable')
  await cdp.send('Profiler.setSamplingInterval', { interval: Number(process.env.PROFILE_INTERVAL ?? 1000) })
  try {
    for (const route of ROUTES.filter((r) => !only || r.name === only)) {
      const url = `${h.url}${route.path}`
      await drive(500, 16, () => call(url, route.init(AUTH)))
      await cdp.send('Profiler.start')
      await drive(REQUESTS, 16, () => call(url, route.init(AUTH)))
      const { profile } = await cdp.send<{ profile: Profile }>('Profiler.stop')
      summarise(route, profile)
      if (save) writeFileSync(join(save, `${route.name}.cpuprofile`), JSON.stringify(profile))
    }
  } finally {
    cdp.close()
    await h.dispose()
  }
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
