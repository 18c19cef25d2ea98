/** Small measuring tools for the benchmark: percentiles, a bounded-concurrency driver, timing. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i] as number
}

export const median = (values: number[]) => percentile(values, 50)

/** Runs `total` calls of `fn` with at most `concurrency` in flight; returns each call's duration (ms). */
export async function drive(
  total: number,
  concurrency: number,
  fn: (i: number) => Promise<void>,
): Promise<number[]> {
  const durations: number[] = []
  let next = 0
  const worker = async () => {
    while (next < total) {
      const i = next++
      const t = performance.now()
      await fn(i)
      durations.push(performance.now() - t)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker))
  return durations
}

/** Fetches and drains a response, failing loudly on anything but the expected status. */
export async function call(url: string, init: RequestInit, expected = 200): Promise<void> {
  const res = await fetch(url, init)
  await res.arrayBuffer()
  if (res.status !== expected)
    throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status}, expected ${expected}`)
}

export const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a')
