/**
 * How well each key has been answering in this isolate: an exponentially weighted average of its
 * latency to the first byte and of its transient failures (5xx, no answer). In memory only: it is a
 * preference, re-learned by every isolate in a few requests, and never worth a D1 write.
 */
const ALPHA = 0.2
/** A key this much slower than the fastest, or failing this often, still gets a little traffic. */
const FLOOR = 0.02
/** How often the fastest latency among keys is looked up again. */
const BEST_EVERY_MS = 500

interface Sample {
  latencyMs?: number
  failure: number
  /** When (ms) the key last answered in this isolate. */
  okAt?: number
}

export class KeyHealth {
  private readonly samples = new Map<number, Sample>()
  private best: number | undefined
  private bestAt = 0

  /** A key answered (latency to the first byte) or failed transiently. */
  record(id: number, outcome: { latencyMs: number } | { failed: true }, now = Date.now()): void {
    const s = this.samples.get(id) ?? { failure: 0 }
    if ('failed' in outcome) {
      s.failure = s.failure * (1 - ALPHA) + ALPHA
    } else {
      s.failure *= 1 - ALPHA
      s.okAt = now
      const l = Math.max(1, outcome.latencyMs)
      s.latencyMs = s.latencyMs === undefined ? l : s.latencyMs * (1 - ALPHA) + l * ALPHA
    }
    this.samples.set(id, s)
  }

  /**
   * A multiplier in [FLOOR, 1]: the fastest keys and keys not measured yet get 1 (so a new or
   * recovered key is tried), a key ten times slower than the fastest 0.1, and failures cut it more.
   */
  score(id: number, now = Date.now()): number {
    const s = this.samples.get(id)
    if (!s) return 1
    let score = 1 - 0.9 * s.failure
    if (s.latencyMs !== undefined) score *= this.fastest(now) / s.latencyMs
    return Math.min(1, Math.max(FLOOR, score))
  }

  /** Whether the key answered in this isolate at or after `since` (ms). */
  answeredSince(id: number, since: number): boolean {
    return (this.samples.get(id)?.okAt ?? -Infinity) >= since
  }

  forget(id: number): void {
    this.samples.delete(id)
  }

  private fastest(now: number): number {
    if (this.best === undefined || now - this.bestAt > BEST_EVERY_MS) {
      let best = Infinity
      for (const s of this.samples.values())
        if (s.latencyMs !== undefined && s.latencyMs < best) best = s.latencyMs
      this.best = Number.isFinite(best) ? best : 1
      this.bestAt = now
    }
    return this.best
  }
}
