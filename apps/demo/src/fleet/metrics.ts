import type { Herd } from '@herd/core'
import { type HerdCounts, type HerdTelemetry, NO_COUNTS, since } from './telemetry.js'
import type { Sample } from './types.js'

const MAX_LATENCIES = 5_000

/** One process's request count and latencies (measured in the server), and herd's counts from @herd/otel, handed over once a second. */
export class Metrics {
  private requests = 0
  private latencies: number[] = []
  private counted: HerdCounts = NO_COUNTS

  constructor(
    private readonly herd: Herd,
    private readonly telemetry: HerdTelemetry,
  ) {}

  record(latencyMs: number): void {
    this.requests++
    if (this.latencies.length < MAX_LATENCIES) this.latencies.push(latencyMs)
    else {
      // Reservoir sampling: memory stays flat under any load, percentiles stay honest.
      const slot = Math.floor(Math.random() * this.requests)
      if (slot < MAX_LATENCIES) this.latencies[slot] = latencyMs
    }
  }

  async take(): Promise<Sample> {
    const counted = await this.telemetry.counts()
    const stats = this.herd.stats()
    const sample: Sample = {
      requests: this.requests,
      latencies: this.latencies,
      herd: since(counted, this.counted),
      totals: {
        requests: stats.requests,
        hits: stats.hits.local + stats.hits.store,
        stale: stats.stale.revalidate + stats.stale.error + stats.stale.timeout + stats.stale.backoff,
        misses: stats.misses,
        coalesced: stats.coalesced,
        negativeHits: stats.negativeHits,
        loads: stats.loads,
        refreshes: stats.refreshes,
        lockWaits: stats.lockWaits,
        fencedOut: stats.fencedOut,
        fallbacks: stats.fallbacks,
        errors: stats.errors,
      },
    }
    this.requests = 0
    this.latencies = []
    this.counted = counted
    return sample
  }
}

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
