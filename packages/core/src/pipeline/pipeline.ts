import { HerdArgumentError, HerdClosedError, HerdEncodeError, HerdTimeoutError } from '../errors.js'
import type { HerdEventName, HerdListener } from '../events.js'
import type { Herd, KeepFreshOptions, WarmOptions, WarmResult } from '../herd.js'
import {
  type EntryOptions,
  type FetchOptions,
  type FetchResult,
  type HerdOptions,
  type Loader,
  type ResolvedEntryOptions,
  type SetOptions,
  resolveEntryOptions,
} from '../options.js'
import { type HerdStats, snapshot } from '../stats.js'
import { assertKey, assertLoader, assertSignal } from '../validate.js'
import { coarseNow } from './clock.js'
import { HerdContext } from './context.js'
import { ERROR_WINDOW, type Entry, FRESH, STALE, shouldRefreshEarly, stateOf, tombstone } from './entry.js'
import { Flight } from './flight.js'
import { Schedules } from './keep-fresh.js'
import { type RefreshReason, loadExclusive, refresh } from './loads.js'
import { readStore } from './reads.js'
import { warmKeys } from './warm.js'
import { commit, encodeValue, writeEntry, writeFence } from './writes.js'

const EVENT_NAMES = new Set<string>(['hit', 'stale', 'miss', 'coalesced', 'load', 'refresh', 'error', 'fallback', 'breaker', 'lock-wait', 'write'])

/** Bad input fails the call that caused it; it never turns into a stale serve. */
function isBadInput(error: unknown): boolean {
  return error instanceof HerdEncodeError || error instanceof HerdArgumentError
}

export class HerdPipeline implements Herd {
  private readonly h: HerdContext
  private closing: Promise<void> | undefined
  private readonly schedules: Schedules
  private readonly unsubscribe: Promise<(() => Promise<void>) | undefined> | undefined

  constructor(options: HerdOptions) {
    const h = (this.h = new HerdContext(options))
    this.schedules = new Schedules(h)
    const bus = h.bus
    if (bus !== undefined) {
      this.unsubscribe = bus
        .subscribe((message) => {
          // Another process changed the key: our copy may be older than the Store's.
          if (message.origin !== h.id) h.local?.delete(message.key)
        })
        .catch((error: unknown) => {
          h.reportError(undefined, 'bus', error)
          return undefined
        })
    }
  }

  get id(): string {
    return this.h.id
  }

  fetch<T>(key: string, loader: Loader<T>, options?: FetchOptions): Promise<T | undefined> {
    return this.read(key, loader as Loader<unknown>, options, false) as Promise<T | undefined>
  }

  fetchEntry<T>(key: string, loader: Loader<T>, options?: FetchOptions): Promise<FetchResult<T>> {
    return this.read(key, loader as Loader<unknown>, options, true) as Promise<FetchResult<T>>
  }

  /** The read path. `withStatus` picks fetchEntry's answer over fetch's bare value, allocated only when asked for. */
  private read(key: string, loader: Loader<unknown>, options: FetchOptions | undefined, withStatus: boolean): Promise<unknown> {
    const h = this.h
    let o = h.defaults
    try {
      if (this.closing !== undefined) throw new HerdClosedError(withStatus ? 'fetchEntry' : 'fetch')
      assertKey(key, 'fetch')
      assertLoader(loader, 'fetch')
      if (options !== undefined) {
        o = h.resolveCallOptions(options)
        assertSignal(options.signal)
      }
    } catch (error) {
      return Promise.reject(error)
    }
    const now = coarseNow()
    const local = h.local?.get(key, now)
    let fallback: Entry | undefined
    if (local !== undefined) {
      const state = stateOf(local, now)
      if (state === FRESH) {
        if (shouldRefreshEarly(local, now, o.beta) && !h.flights.has(key)) {
          this.startRefresh(key, loader, o, local, 'early')
        }
        h.countHit(key, 'local', local.negative)
        return Promise.resolve(withStatus ? { value: local.value, status: 'hit', createdAt: local.createdAt } : local.value)
      }
      if (state === STALE) {
        if (!h.flights.has(key) && !h.isHeldOff(key, now)) this.startRefresh(key, loader, o, local, 'stale')
        h.countStale(key, 'local', 'revalidate')
        return Promise.resolve(withStatus ? { value: local.value, status: 'stale', createdAt: local.createdAt } : local.value)
      }
      if (state === ERROR_WINDOW) fallback = local
    }
    let flight = h.flights.get(key)
    if (flight !== undefined) {
      h.countCoalesced(key)
    } else {
      flight = this.openFlight(key, o)
      flight.fallback = fallback
      void this.resolve(flight, loader, o)
    }
    const joined = flight.join(options?.signal)
    return withStatus ? joined : joined.then(valueOf)
  }

  private openFlight(key: string, o: ResolvedEntryOptions): Flight {
    const flight = new Flight(key)
    this.h.flights.set(key, flight)
    flight.timer = setTimeout(() => this.onHardTimeout(flight, o), o.hardTimeout)
    flight.timer.unref?.()
    return flight
  }

  private closeFlight(flight: Flight): void {
    clearTimeout(flight.timer)
    if (this.h.flights.get(flight.key) === flight) this.h.flights.delete(flight.key)
  }

  private failFlight(flight: Flight, error: unknown): void {
    flight.fail(error)
    // New callers start afresh rather than inherit this failure while its work winds down.
    this.closeFlight(flight)
  }

  private onHardTimeout(flight: Flight, o: ResolvedEntryOptions): void {
    const h = this.h
    const error = new HerdTimeoutError(flight.key, o.hardTimeout)
    h.counters.timeouts++
    if (!flight.settled) {
      if (!this.standIn(flight, 'timeout')) this.failFlight(flight, error)
    }
    flight.controller.abort(error)
  }

  /** Serves the flight's fallback if it is still inside staleIfError. */
  private standIn(flight: Flight, reason: 'timeout' | 'error' | 'backoff'): boolean {
    const fallback = flight.fallback
    if (fallback === undefined || Date.now() >= fallback.errorUntil) return false
    this.h.countStale(flight.key, flight.fallbackTier, reason)
    flight.provide(fallback.value, 'stale', fallback.createdAt)
    return true
  }

  /** The read path behind a flight: the Store, then (on a miss) one load, fleet-wide. */
  private async resolve(flight: Flight, loader: Loader<unknown>, o: ResolvedEntryOptions): Promise<void> {
    const h = this.h
    const key = flight.key
    let softTimer: ReturnType<typeof setTimeout> | undefined
    try {
      const entry = await readStore(h, key)
      if (entry !== undefined) {
        const now = Date.now()
        const state = stateOf(entry, now)
        if (state === FRESH || state === STALE) {
          h.local?.set(key, entry, now)
          if (state === FRESH) h.countHit(key, 'store', entry.negative)
          else h.countStale(key, 'store', 'revalidate')
          flight.provide(entry.value, state === FRESH ? 'hit' : 'stale', entry.createdAt)
          if (state === STALE && !h.isHeldOff(key, now)) {
            await this.refreshIn(flight, loader, o, entry, 'stale')
          } else if (state === FRESH && shouldRefreshEarly(entry, now, o.beta)) {
            await this.refreshIn(flight, loader, o, entry, 'early')
          }
          return
        }
        if (state === ERROR_WINDOW && (flight.fallback === undefined || entry.fence >= flight.fallback.fence)) {
          flight.fallback = entry
          flight.fallbackTier = 'store'
        }
      }
      h.countMiss(key)
      const fallback = flight.fallback
      if (fallback !== undefined && h.isHeldOff(key, Date.now()) && this.standIn(flight, 'backoff')) return
      if (fallback !== undefined && o.softTimeout !== undefined) {
        softTimer = setTimeout(() => {
          if (!flight.settled) this.standIn(flight, 'timeout')
        }, o.softTimeout)
        softTimer.unref?.()
      }
      const loaded = await loadExclusive(h, key, loader, o, fallback?.value, flight.signal)
      flight.provide(loaded.value, 'miss', loaded.createdAt)
    } catch (error) {
      if (isBadInput(error)) return this.failFlight(flight, error)
      if (!flight.signal.aborted) h.holdOffFor(key, h.errorBackoffMs)
      if (!flight.settled && !this.standIn(flight, 'error')) this.failFlight(flight, error)
    } finally {
      clearTimeout(softTimer)
      // Synchronously with the last provide(): a caller resuming after it never joins a finished flight.
      this.closeFlight(flight)
    }
  }

  private refreshIn(flight: Flight, loader: Loader<unknown>, o: ResolvedEntryOptions, current: Entry, reason: RefreshReason): Promise<void> {
    return refresh(this.h, flight.key, loader, o, current, reason, flight.signal, (latest) => latest.fence > current.fence)
  }

  /** A stale or early hit from the local tier: answer now, refresh behind a flight so it runs once. */
  private startRefresh(key: string, loader: Loader<unknown>, o: ResolvedEntryOptions, current: Entry, reason: RefreshReason): void {
    const flight = this.openFlight(key, o)
    flight.provide(current.value, reason === 'stale' ? 'stale' : 'hit', current.createdAt)
    void this.refreshIn(flight, loader, o, current, reason).then(() => this.closeFlight(flight))
  }

  async get<T>(key: string): Promise<T | undefined> {
    this.assertOpen('get')
    assertKey(key, 'get')
    const h = this.h
    const now = Date.now()
    const local = h.local?.get(key, now)
    if (local !== undefined && stateOf(local, now) <= STALE) return local.value as T | undefined
    const entry = await readStore(h, key)
    if (entry === undefined || stateOf(entry, Date.now()) > STALE) return undefined
    h.local?.set(key, entry, Date.now())
    return entry.value as T | undefined
  }

  async set<T>(key: string, value: T, options?: SetOptions): Promise<void> {
    this.assertOpen('set')
    assertKey(key, 'set')
    if (value === undefined) throw new HerdArgumentError('herd: set() needs a value; to remove a key use delete()')
    const h = this.h
    const o = options === undefined ? h.defaults : resolveEntryOptions(h.defaults, pickSetOptions(options), 'set()')
    const encoded = encodeValue(h, value)
    const fence = await writeFence(h, key)
    await writeEntry(h, key, value, encoded, o, fence, 0, 'set')
  }

  async expire(key: string): Promise<void> {
    this.assertOpen('expire')
    assertKey(key, 'expire')
    const h = this.h
    const store = h.store
    const now = Date.now()
    if (store !== undefined) await h.guard.run('store', key, () => store.expire(key, now))
    // Stale as of the epoch: the hit path's coarse clock may lag `now` by a moment.
    h.local?.markStale(key)
    h.publish('expire', key)
  }

  async delete(key: string): Promise<void> {
    this.assertOpen('delete')
    assertKey(key, 'delete')
    const h = this.h
    const fence = await writeFence(h, key)
    const now = Date.now()
    const store = h.store
    if (fence === undefined && store !== undefined) {
      // No fleet fence to guard a tombstone with: a plain delete is the best we can do.
      await h.guard.run('store', key, () => store.delete(key))
    }
    // The tombstone outlives any lease that was loading the key, so that load can't bring the value back.
    await commit(h, key, tombstone(fence ?? 0, now), '', fence, now, now + h.leaseMs + h.defaults.hardTimeout, 'delete')
  }

  async warm<T>(keys: readonly string[], loader: Loader<T>, options: WarmOptions = {}): Promise<WarmResult> {
    this.assertOpen('warm')
    assertLoader(loader, 'warm')
    const { concurrency = 4, ...fetchOptions } = options
    return warmKeys(keys, concurrency, (key) => this.fetch(key, loader, fetchOptions))
  }

  keepFresh<T>(key: string, loader: Loader<T>, options: KeepFreshOptions = {}): () => void {
    this.assertOpen('keepFresh')
    return this.schedules.start(key, loader as Loader<unknown>, options, (entryOptions) => {
      void this.fetch(key, loader, entryOptions).catch(() => {})
    })
  }

  on<E extends HerdEventName>(event: E, listener: HerdListener<E>): () => void {
    this.assertOpen('on')
    if (!EVENT_NAMES.has(event)) throw new HerdArgumentError(`herd: unknown event "${String(event)}"; one of ${[...EVENT_NAMES].join(', ')}`)
    if (typeof listener !== 'function') throw new HerdArgumentError('herd: on() needs a listener function')
    return this.h.emitter.on(event, listener)
  }

  stats(): HerdStats {
    const breaker = this.h.breaker
    return snapshot(this.h.counters, { state: breaker?.state ?? 'closed', opens: breaker?.opens ?? 0 })
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    const h = this.h
    this.schedules.stopAll()
    for (const flight of [...h.flights.values()]) {
      const error = new HerdClosedError('fetch', true)
      this.failFlight(flight, error)
      flight.controller.abort(error)
    }
    const unsubscribe = await this.unsubscribe
    const closers = [unsubscribe?.(), h.store?.close?.(), h.lock?.close?.(), h.bus?.close?.()]
    for (const outcome of await Promise.allSettled(closers)) {
      if (outcome.status === 'rejected') h.reportError(undefined, 'store', outcome.reason)
    }
    h.guard.stop()
    h.local?.clear()
    h.holdOff.clear()
    h.emitter.clear()
  }

  private assertOpen(operation: string): void {
    if (this.closing !== undefined) throw new HerdClosedError(operation)
  }
}

function valueOf<T>(result: FetchResult<T>): T | undefined {
  return result.value
}

function pickSetOptions(options: SetOptions): EntryOptions {
  if (options === null || typeof options !== 'object') throw new HerdArgumentError('herd: set() options must be an object')
  const { ttl, staleWhileRevalidate, staleIfError, jitter } = options
  return { ttl, staleWhileRevalidate, staleIfError, jitter }
}
