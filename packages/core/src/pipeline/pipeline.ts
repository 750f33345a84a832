import { HerdArgumentError, HerdClosedError } from '../errors.js'
import type { HerdEventName, HerdListener } from '../events.js'
import type { Batch, BatchOptions, Herd, KeepFreshOptions, WarmOptions, WarmResult } from '../herd.js'
import type { BatchLoader, FetchManyOptions, FetchOptions, FetchResult, HerdOptions, InvalidateOptions, Loader, SetOptions } from '../options.js'
import { FRESH } from '../policies/freshness.js'
import { createBatch } from './batch.js'
import { getMany, readMany } from './read-many.js'
import { type HerdStats, snapshot } from '../stats.js'
import { assertLoader } from '../validate.js'
import { HerdContext } from './context.js'
import { type Inspection, inspect } from './inspect.js'
import { Schedules } from './keep-fresh.js'
import { get, read } from './read-path.js'
import { warmKeys } from './warm.js'
import { clear, expire, invalidateTags, remove, set } from './writes.js'

const EVENT_NAMES = new Set<string>([
  'hit',
  'stale',
  'miss',
  'coalesced',
  'load',
  'refresh',
  'error',
  'fallback',
  'breaker',
  'lock-wait',
  'write',
  'recovery',
])

/** The Herd users hold: each method is one path of the pipeline (read-path.ts, writes.ts, keep-fresh.ts). */
export class HerdPipeline implements Herd {
  private readonly h: HerdContext
  private readonly schedules: Schedules
  private closing: Promise<void> | undefined

  constructor(options: HerdOptions) {
    this.h = new HerdContext(options)
    this.schedules = new Schedules(this.h)
    this.h.start()
  }

  get id(): string {
    return this.h.id
  }

  fetch<T>(key: string, loader: Loader<T>, options?: FetchOptions): Promise<T> {
    return read(this.h, key, loader as Loader<unknown>, options, false) as Promise<T>
  }

  fetchEntry<T>(key: string, loader: Loader<T>, options?: FetchOptions): Promise<FetchResult<T>> {
    return read(this.h, key, loader as Loader<unknown>, options, true) as Promise<FetchResult<T>>
  }

  get<T>(key: string): Promise<T | undefined> {
    return get(this.h, key) as Promise<T | undefined>
  }

  fetchMany<T>(keys: readonly string[], loader: BatchLoader<T>, options?: FetchManyOptions): Promise<T[]> {
    return readMany(this.h, keys, loader, options)
  }

  getMany<T>(keys: readonly string[]): Promise<Array<T | undefined>> {
    return getMany(this.h, keys) as Promise<Array<T | undefined>>
  }

  batch<T>(loader: BatchLoader<T>, options?: BatchOptions): Batch<T> {
    this.h.assertOpen('batch')
    const h = this.h
    const fresh = (key: string) => {
      const now = h.clock.coarse()
      const local = h.local?.get(key, now)
      return local !== undefined && h.tags.stateOf(local, now) === FRESH ? { value: local.value } : undefined
    }
    return createBatch((keys, batchLoader, manyOptions) => this.fetchMany(keys, batchLoader, manyOptions), loader, options, fresh)
  }

  set<T>(key: string, value: T, options?: SetOptions): Promise<void> {
    return set(this.h, key, value, options)
  }

  expire(key: string, options?: InvalidateOptions): Promise<void> {
    return expire(this.h, key, options)
  }

  delete(key: string, options?: InvalidateOptions): Promise<void> {
    return remove(this.h, key, options)
  }

  expireTags(tags: readonly string[], options?: InvalidateOptions): Promise<void> {
    return invalidateTags(this.h, tags, 'expired', 'expireTags', options)
  }

  deleteTags(tags: readonly string[], options?: InvalidateOptions): Promise<void> {
    return invalidateTags(this.h, tags, 'deleted', 'deleteTags', options)
  }

  clear(options?: InvalidateOptions): Promise<void> {
    return clear(this.h, options)
  }

  async warm<T>(keys: readonly string[], loader: Loader<T>, options: WarmOptions = {}): Promise<WarmResult> {
    this.h.assertOpen('warm')
    assertLoader(loader, 'warm')
    const { concurrency = 4, ...fetchOptions } = options
    // Checked once here, so a bad option fails the call instead of every key.
    this.h.resolveCallOptions(fetchOptions, 'warm()')
    return warmKeys(keys, concurrency, (key) => this.fetch(key, loader, fetchOptions))
  }

  keepFresh<T>(key: string, loader: Loader<T>, options: KeepFreshOptions = {}): () => void {
    this.h.assertOpen('keepFresh')
    return this.schedules.start(key, loader as Loader<unknown>, options, (entryOptions) => {
      void this.fetch(key, loader, entryOptions).catch(() => {})
    })
  }

  inspect(key: string): Promise<Inspection> {
    return inspect(this.h, key)
  }

  on<E extends HerdEventName>(event: E, listener: HerdListener<E>): () => void {
    this.h.assertOpen('on')
    if (!EVENT_NAMES.has(event)) throw new HerdArgumentError(`herd: unknown event "${String(event)}"; one of ${[...EVENT_NAMES].join(', ')}`)
    if (typeof listener !== 'function') throw new HerdArgumentError('herd: on() needs a listener function')
    return this.h.observer.emitter.on(event, listener)
  }

  stats(): HerdStats {
    const breaker = this.h.breaker
    return snapshot(
      this.h.observer.counters,
      { state: breaker?.state ?? 'closed', opens: breaker?.opens ?? 0 },
      { size: this.h.local?.size ?? 0, bytes: this.h.local?.bytes ?? 0 },
      { running: this.h.refreshBulkhead.running, waiting: this.h.refreshBulkhead.waiting },
    )
  }

  ready(): Promise<boolean> {
    const h = this.h
    // The namespace's tag record is read once the Bus listens (its subscription rechecks what is held), so the
    // first read after ready() doesn't wait for it.
    const listening = h.bus.ready.then((listens) => (h.closed ? listens : h.tags.warm(h.clock.now()).then(() => listens)))
    const lock = h.lock
    if (lock?.ready === undefined) return listening
    const prepared = lock.ready().catch(() => false)
    return Promise.all([listening, prepared]).then(([listens]) => listens)
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    const h = this.h
    h.closed = true
    this.schedules.stopAll()
    // What could not reach the fleet is dropped now, each reported (a 'recovery' event, one log line).
    h.recovery.close()
    // One error for every open flight: a stack per flight made closing a herd with thousands of them slow.
    const closed = new HerdClosedError('fetch', true)
    for (const flight of [...h.flights.values()]) flight.abort(closed)
    const closers = [h.bus.close(), h.tier.store?.close?.(), h.lock?.close?.(), h.bus.bus?.close?.()]
    for (const outcome of await Promise.allSettled(closers)) {
      if (outcome.status === 'rejected') h.observer.error(undefined, 'store', outcome.reason)
    }
    h.guard.stop()
    h.tier.stop()
    h.local?.clear()
    h.holdOff.clear()
    h.observer.emitter.clear()
  }
}
