import { HerdTimeoutError } from '../errors.js'
import type { KeepFreshOptions } from '../herd.js'
import { type EntryOptions, type Loader, type ResolvedEntryOptions, positiveMs, resolveEntryOptions } from '../options.js'
import { assertKey, assertLoader } from '../validate.js'
import type { HerdContext } from './context.js'
import type { Entry } from './entry.js'
import { refresh } from './loads.js'

/** The herd's refresh schedules, so close() can stop every one of them. */
export class Schedules {
  private readonly running = new Set<() => void>()

  constructor(private readonly h: HerdContext) {}

  /**
   * Refreshes `key` every period; `fill(options)` makes the first fetch.
   * Across the fleet, whoever refreshed within the last half period already
   * did this period's work (the Store is re-read under the lock first).
   */
  start(key: string, loader: Loader<unknown>, options: KeepFreshOptions, fill: (options: EntryOptions) => void): () => void {
    assertKey(key, 'keepFresh')
    assertLoader(loader, 'keepFresh')
    const h = this.h
    const { every, signal: _signal, ...entryOptions } = options
    const o = resolveEntryOptions(h.defaults, entryOptions, 'keepFresh()')
    const everyMs = every === undefined ? Math.max(1, Math.floor(o.ttl * 0.8)) : positiveMs(every, 'every')
    const stopped = new AbortController()
    let busy = false
    const tick = (): void => {
      if (busy || h.flights.has(key) || stopped.signal.aborted) return
      busy = true
      void this.runOnce(key, loader, o, everyMs, stopped.signal).then(() => (busy = false))
    }
    const timer = setInterval(tick, everyMs)
    timer.unref?.()
    const stop = (): void => {
      clearInterval(timer)
      stopped.abort()
      this.running.delete(stop)
    }
    this.running.add(stop)
    fill(entryOptions)
    return stop
  }

  stopAll(): void {
    for (const stop of [...this.running]) stop()
  }

  /** One scheduled refresh, bounded by the hard timeout: a hung loader must not keep renewing its lease forever. */
  private async runOnce(key: string, loader: Loader<unknown>, o: ResolvedEntryOptions, everyMs: number, stopped: AbortSignal): Promise<void> {
    const h = this.h
    const run = new AbortController()
    const stopRun = () => run.abort(stopped.reason)
    stopped.addEventListener('abort', stopRun, { once: true })
    const timer = setTimeout(() => run.abort(new HerdTimeoutError(key, o.hardTimeout)), o.hardTimeout)
    timer.unref?.()
    const done = (latest: Entry) => latest.createdAt > Date.now() - everyMs / 2
    try {
      await refresh(h, key, loader, o, h.local?.get(key, Date.now()), 'schedule', run.signal, done)
    } finally {
      clearTimeout(timer)
      stopped.removeEventListener('abort', stopRun)
    }
  }
}
