import type { KeepFreshOptions } from '../herd.js'
import { type EntryOptions, type Loader, positiveMs, resolveEntryOptions } from '../options.js'
import { every } from '../time/timers.js'
import { assertKey, assertLoader } from '../validate.js'
import { FETCH_OPTION_KEYS, type HerdContext } from './context.js'
import { startRefresh } from './read-path.js'

const KEEP_FRESH_OPTION_KEYS: ReadonlySet<string> = new Set([...FETCH_OPTION_KEYS].filter((k) => k !== 'signal'))

/** The herd's refresh schedules, so close() can stop every one of them. */
export class Schedules {
  private readonly running = new Set<() => void>()

  constructor(private readonly h: HerdContext) {}

  /**
   * Refreshes `key` every period, through the same flight as any refresh
   * (bounded by the hard timeout, one per process at a time); `fill(options)`
   * makes the first fetch. Across the fleet, whoever refreshed within the
   * last half period already did this period's work (the Store is re-read
   * under the lock first).
   */
  start(key: string, loader: Loader<unknown>, options: KeepFreshOptions, fill: (options: EntryOptions) => void): () => void {
    assertKey(key, 'keepFresh')
    assertLoader(loader, 'keepFresh')
    const h = this.h
    const { every: period, signal: _signal, ...entryOptions } = options
    const o = resolveEntryOptions(h.defaults, entryOptions, 'keepFresh()', KEEP_FRESH_OPTION_KEYS)
    const everyMs = period === undefined ? Math.max(1, Math.floor(o.ttl * 0.8)) : positiveMs(period, 'every')
    const timer = every(everyMs, () => {
      if (h.flights.has(key)) return
      const now = h.clock.now()
      startRefresh(h, key, loader, o, h.local?.get(key, now), 'schedule', (latest) => latest.createdAt > h.clock.now() - everyMs / 2)
    })
    const stop = (): void => {
      timer.cancel()
      this.running.delete(stop)
    }
    this.running.add(stop)
    fill(entryOptions)
    return stop
  }

  stopAll(): void {
    for (const stop of [...this.running]) stop()
  }
}
