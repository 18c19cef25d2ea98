/**
 * CPU time of workerd processes, read from /proc: steadier than wall time on a shared machine. Each
 * Miniflare instance runs in a workerd process of its own, a child of this one; which one belongs to
 * which instance is told by starting them one at a time (newWorkerd).
 */
import { readdirSync, readFileSync } from 'node:fs'

/** Clock ticks per second of /proc's utime and stime (`getconf CLK_TCK`; 100 on Linux). */
const TICKS = 100

function children(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        return stat.includes('(workerd)') && Number(fields[1]) === process.pid
      } catch {
        return false
      }
    })
}

/** Runs `start` and returns its result with the pid of the one workerd process it started. */
export async function newWorkerd<T>(start: () => Promise<T>): Promise<{ value: T; pid: number }> {
  const before = new Set(children())
  const value = await start()
  const started = children().filter((pid) => !before.has(pid))
  if (started.length !== 1) throw new Error(`expected one new workerd, found ${started.length}`)
  return { value, pid: started[0] as number }
}

/** User plus system CPU time of a process so far, in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) / TICKS) * 1e6
}
