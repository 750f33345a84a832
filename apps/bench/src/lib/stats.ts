/** Small, dependency-free statistics for benchmark samples. */

/** The p-th percentile (0..100) of `values`, nearest-rank on a sorted copy. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!
}

export function median(values: readonly number[]): number {
  return percentile(values, 50)
}

/**
 * How many times slower `of` is than `than`, from throughput samples taken in
 * the same interleaved rounds (one of each per round): the median of the
 * per-round ratios. Pairing each sample with its round's reference cancels
 * the drift of a shared machine, which moves both alike, where a ratio of
 * two medians keeps it.
 */
export function pairedSlowdown(samples: Record<string, readonly number[]>, of: string, than: string): number {
  return pairedRatio(samples[than]!, samples[of]!)
}

/** The median over rounds of `a[round] / b[round]`: two series sampled in the same interleaved rounds, compared round by round. */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, round) => x / b[round]!))
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN
  let sum = 0
  for (const v of values) sum += v
  return sum / values.length
}

export function max(values: readonly number[]): number {
  let m = -Infinity
  for (const v of values) if (v > m) m = v
  return values.length === 0 ? NaN : m
}

export interface Latency {
  p50: number
  p99: number
  max: number
}

export function latency(values: readonly number[]): Latency {
  return { p50: percentile(values, 50), p99: percentile(values, 99), max: max(values) }
}

/** Per-round records → one record whose every numeric field is the median across rounds. */
export function medianOf<T extends Record<string, unknown>>(rounds: readonly T[]): T {
  const first = rounds[0]
  if (first === undefined) throw new Error('medianOf: no rounds')
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(first)) {
    const values = rounds.map((r) => r[key])
    out[key] = typeof values[0] === 'number' ? median(values as number[]) : values[0]
  }
  return out as T
}

/** A fixed-size random sample of uniform draws, shuffled in place (Fisher–Yates). */
export function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}
