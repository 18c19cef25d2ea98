/**
 * workerd CPU per request, keyrelay beside the bare Worker (and one-balance's build when present), on
 * each of the three routes people use most: each process's own CPU time over 2 × 1,000 requests at
 * concurrency 16, in interleaved rounds, after a warm-up. Steadier than wall time on a shared machine.
 * Run alone (`npx tsx bench/cpu-routes.ts`) it prints its figures; `pnpm bench` records them.
 */
import { execFileSync } from 'node:child_process'
import { startWorker, type Harness } from '../test/harness'
import { cpuMicros, newWorkerd } from './cpu'
import { startBare } from './bare'
import { BENCH_GATEWAY, benchGateway } from './gateway'
import { call, drive, median } from './lib'
import { ROUTES, type BenchRoute } from './routes'

const AUTH = 'bench-auth-key'
const REQUESTS = 1000
const ROUNDS = Number(process.env.CPU_ROUNDS ?? 2)
const CONCURRENCY = Number(process.env.CPU_CONCURRENCY ?? 16)

export interface RouteCpu {
  route: string
  /** µs of workerd CPU per request, one figure per round. */
  keyrelay: number[]
  bare: number[]
}

export async function cpuPerRoute(routes: BenchRoute[] = ROUTES): Promise<RouteCpu[]> {
  const gw = benchGateway(2, 5, 0)
  /** keyrelay (this build, or the one at scriptPath) with 1,000 Google keys, before the bench upstream. */
  const keyrelay = async (scriptPath?: string) => {
    const h = await startWorker({
      deployedDefaults: true,
      authKey: AUTH,
      ...(scriptPath ? { scriptPath } : {}),
      upstream: { base: BENCH_GATEWAY, handle: gw.handle },
    })
    await h.addKeys(
      'google-ai-studio',
      Array.from({ length: 1000 }, (_, i) => `AIzaSyBENCH-${String(i).padStart(8, '0')}`),
    )
    return h
  }
  const kr = await newWorkerd(() => keyrelay())
  // CPU_VERSUS=<another build's worker.js>: that build of keyrelay instead of the bare Worker, to
  // measure what a change costs, both in one interleaved run (docs/development.md says how).
  const versus = process.env.CPU_VERSUS
  const bare = await newWorkerd(async () => {
    if (versus) {
      const h = await keyrelay(versus)
      return { url: h.url, dispose: () => h.dispose() }
    }
    return startBare(gw)
  })
  // Both workerd processes on one core, this process (the load and the upstream) on the other: less
  // of the two-core machine's contention in each figure. Best effort: without taskset, as they are.
  if (process.env.CPU_PIN !== 'off') {
    try {
      execFileSync('taskset', ['-p', '-c', '0', String(process.pid)])
      for (const pid of [kr.pid, bare.pid]) execFileSync('taskset', ['-a', '-p', '-c', '1', String(pid)])
    } catch {
      // taskset missing, or one core only
    }
  }
  const out: RouteCpu[] = []
  try {
    for (const route of routes) {
      const targets = [
        ['keyrelay', kr.pid, (kr.value as Harness).url],
        ['bare', bare.pid, bare.value.url],
      ] as const
      for (const [, , base] of targets)
        await drive(REQUESTS, 16, () => call(`${base}${route.path}`, route.init(AUTH)))
      const figures: RouteCpu = { route: route.name, keyrelay: [], bare: [] }
      for (let round = 0; round < ROUNDS * 2; round++) {
        for (const [name, pid, base] of round % 2 ? [...targets].reverse() : targets) {
          const before = cpuMicros(pid)
          await drive(REQUESTS, CONCURRENCY, () => call(`${base}${route.path}`, route.init(AUTH)))
          figures[name].push((cpuMicros(pid) - before) / REQUESTS)
        }
      }
      out.push(figures)
    }
  } finally {
    await kr.value.dispose()
    await bare.value.dispose()
  }
  return out
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // CPU_ROUTES=native,compat-chat runs only those.
  const only = process.env.CPU_ROUTES?.split(',')
  for (const r of await cpuPerRoute(ROUTES.filter((x) => !only || only.includes(x.name)))) {
    const k = median(r.keyrelay)
    const b = median(r.bare)
    const other = process.env.CPU_VERSUS ? 'other build' : 'bare'
    console.log(
      `${r.route.padEnd(17)} keyrelay ${k.toFixed(0)} µs, ${other} ${b.toFixed(0)} µs, ratio ${(k / b).toFixed(2)}, own ${(k - b).toFixed(0)} µs (rounds: ${r.keyrelay.map((x) => x.toFixed(0)).join(' ')} / ${r.bare.map((x) => x.toFixed(0)).join(' ')})`,
    )
  }
}
