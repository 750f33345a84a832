/**
 * Throughput of short operations (a hit, a batch of hits): each runner is
 * calibrated to take about `targetMs` per sample (the calibration also warms
 * it), then rounds interleave the runners in a shuffled order so drift on a
 * shared machine spreads evenly.
 */
import type { Progress } from './progress.js'
import { shuffle } from './stats.js'

export interface Runner {
  name: string
  /** Runs the operation `n` times, one after another. */
  run(n: number): Promise<void>
}

/** Iterations that take about `targetMs`, measured on a first run that also warms the JIT. */
export async function calibrate(runner: Runner, targetMs: number, start = 1_000): Promise<number> {
  let n = start
  for (;;) {
    const t0 = performance.now()
    await runner.run(n)
    const took = performance.now() - t0
    if (took > targetMs / 4 || n >= 10_000_000) return Math.max(start, Math.round((n * targetMs) / Math.max(took, 0.01)))
    n *= 4
  }
}

/** Operations per second per runner, one sample per round, rounds interleaved in shuffled order. */
export async function measure(
  runners: readonly Runner[],
  rounds: number,
  targetMs: number,
  p: Progress,
  label: string,
  start = 1_000,
): Promise<Record<string, number[]>> {
  const iterations = new Map<string, number>()
  for (const r of runners) {
    p.step(`${label}: warming ${r.name}`)
    iterations.set(r.name, await calibrate(r, targetMs, start))
  }
  const out: Record<string, number[]> = {}
  for (let round = 0; round < rounds; round++) {
    for (const r of shuffle([...runners])) {
      p.step(`${label}: round ${round + 1}/${rounds} ${r.name}`)
      const n = iterations.get(r.name)!
      const t0 = performance.now()
      await r.run(n)
      ;(out[r.name] ??= []).push(n / ((performance.now() - t0) / 1000))
    }
  }
  return out
}
