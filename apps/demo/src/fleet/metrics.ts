import type { Herd, HerdEventName } from '@herd/core'
import type { Sample } from './types.js'

const EVENTS: readonly HerdEventName[] = ['hit', 'stale', 'miss', 'coalesced', 'load', 'refresh', 'error', 'fallback', 'breaker', 'lock-wait', 'write']
const MAX_LATENCIES = 5_000

/** One process's request count, latencies and herd events, handed over (and reset) once a second. */
export class Metrics {
  private requests = 0
  private latencies: number[] = []
  private events: Partial<Record<HerdEventName, number>> = {}
  private readonly unsubscribe: Array<() => void>

  constructor(private readonly herd: Herd) {
    this.unsubscribe = EVENTS.map((name) => herd.on(name, () => void (this.events[name] = (this.events[name] ?? 0) + 1)))
  }

  record(latencyMs: number): void {
    this.requests++
    if (this.latencies.length < MAX_LATENCIES) this.latencies.push(latencyMs)
    else {
      // Reservoir sampling: memory stays flat under any load, percentiles stay honest.
      const slot = Math.floor(Math.random() * this.requests)
      if (slot < MAX_LATENCIES) this.latencies[slot] = latencyMs
    }
  }

  take(): Sample {
    const stats = this.herd.stats()
    const sample: Sample = {
      requests: this.requests,
      latencies: this.latencies,
      events: this.events,
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
        fallbacks: stats.fallbacks,
        errors: stats.errors,
      },
    }
    this.requests = 0
    this.latencies = []
    this.events = {}
    return sample
  }

  close(): void {
    for (const off of this.unsubscribe) off()
  }
}

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
