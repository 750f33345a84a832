import { randomUUID } from 'node:crypto'
import QuickLRU from 'quick-lru'
import { defaultCodec } from '../codec/default-codec.js'
import type { Bus, BusMessage } from '../contracts/bus.js'
import type { Codec } from '../contracts/codec.js'
import type { Lock } from '../contracts/lock.js'
import type { Store } from '../contracts/store.js'
import { toMs } from '../duration.js'
import { HerdArgumentError } from '../errors.js'
import { Emitter, type ErrorSource, type StaleReason, type Tier } from '../events.js'
import {
  ENTRY_DEFAULTS,
  type FetchOptions,
  type HerdOptions,
  type ResolvedEntryOptions,
  positiveInteger,
  positiveMs,
  resolveEntryOptions,
} from '../options.js'
import { type Counters, newCounters } from '../stats.js'
import { assertAdapter } from '../validate.js'
import { BackendGuard } from './backend-guard.js'
import { Breaker } from './breaker.js'
import { Bulkhead } from './bulkhead.js'
import type { Flight } from './flight.js'
import { LocalTier } from './local-tier.js'

const HERD_OPTION_KEYS = new Set([
  'store',
  'lock',
  'bus',
  'codec',
  'local',
  'lease',
  'errorBackoff',
  'operationTimeout',
  'breaker',
  'maxConcurrentLoads',
  'ttl',
  'staleWhileRevalidate',
  'staleIfError',
  'jitter',
  'beta',
  'negativeTtl',
  'softTimeout',
  'hardTimeout',
])

/**
 * Everything the read, load and write paths share: the adapters, the
 * resolved options, the per-key bookkeeping, and the counters and events
 * that report what happened.
 */
export class HerdContext {
  readonly id = randomUUID()
  readonly store: Store | undefined
  readonly lock: Lock | undefined
  readonly bus: Bus | undefined
  readonly codec: Codec
  readonly local: LocalTier | undefined
  readonly defaults: ResolvedEntryOptions
  readonly leaseMs: number
  readonly errorBackoffMs: number
  readonly operationTimeoutMs: number
  readonly breaker: Breaker | undefined
  readonly guard: BackendGuard
  readonly bulkhead: Bulkhead
  readonly emitter: Emitter
  readonly counters: Counters = newCounters()
  /** One flight per key in this process. */
  readonly flights = new Map<string, Flight>()
  /** Keys not to load or refresh again before a time: after a loader error, or while another process refreshes. */
  readonly holdOff = new QuickLRU<string, number>({ maxSize: 10_000 })
  private lastFence = 0

  constructor(options: HerdOptions) {
    if (options === null || typeof options !== 'object') {
      throw new HerdArgumentError('herd: createHerd() options must be an object')
    }
    for (const name of Object.keys(options)) {
      if (!HERD_OPTION_KEYS.has(name)) throw new HerdArgumentError(`herd: unknown option "${name}" in createHerd()`)
    }
    assertAdapter(options.store, 'store', ['get', 'set', 'delete', 'expire'])
    assertAdapter(options.lock, 'lock', ['acquire', 'release', 'extend', 'fence', 'wait'])
    assertAdapter(options.bus, 'bus', ['publish', 'subscribe'])
    assertAdapter(options.codec, 'codec', ['encode', 'decode'])
    this.store = options.store
    this.lock = options.lock
    this.bus = options.bus
    this.codec = options.codec ?? defaultCodec
    this.defaults = resolveEntryOptions(ENTRY_DEFAULTS, options, 'createHerd()')
    this.leaseMs = positiveMs(options.lease ?? 5_000, 'lease')
    this.errorBackoffMs = toMs(options.errorBackoff ?? 1_000, 'errorBackoff')
    this.operationTimeoutMs = positiveMs(options.operationTimeout ?? 1_000, 'operationTimeout')
    this.bulkhead = new Bulkhead(positiveInteger(options.maxConcurrentLoads ?? Infinity, 'maxConcurrentLoads', true))
    this.local = this.createLocalTier(options.local)
    this.emitter = new Emitter((error) => this.reportError(undefined, 'listener', error))
    this.breaker = this.createBreaker(options.breaker)
    this.guard = new BackendGuard(
      this.breaker,
      this.operationTimeoutMs,
      (source, key, error) => {
        this.reportError(key, source, error)
        this.fallback(key, source, 'error')
      },
      (source, key) => this.fallback(key, source, 'breaker-open'),
    )
  }

  private createLocalTier(local: HerdOptions['local']): LocalTier | undefined {
    if (local === false) {
      if (this.store === undefined) throw new HerdArgumentError('herd: local: false needs a store; without one the local tier is the only tier')
      return undefined
    }
    if (local !== undefined && (local === null || typeof local !== 'object')) {
      throw new HerdArgumentError('herd: local must be false or { maxSize, ttl }')
    }
    const maxSize = positiveInteger(local?.maxSize ?? 10_000, 'local.maxSize')
    // Without a Store the local tier holds entries for their whole life; in front of one it only borrows them.
    const ttl = this.store === undefined ? Infinity : positiveMs(local?.ttl ?? 5_000, 'local.ttl')
    return new LocalTier(maxSize, ttl)
  }

  private createBreaker(breaker: HerdOptions['breaker']): Breaker | undefined {
    if (breaker === false || (this.store === undefined && this.lock === undefined)) return undefined
    if (breaker !== undefined && (breaker === null || typeof breaker !== 'object')) {
      throw new HerdArgumentError('herd: breaker must be false or { threshold, resetAfter }')
    }
    return new Breaker(
      positiveInteger(breaker?.threshold ?? 5, 'breaker.threshold'),
      positiveMs(breaker?.resetAfter ?? 5_000, 'breaker.resetAfter'),
      (from, to) => this.emitter.emit('breaker', { from, to }),
    )
  }

  /**
   * Per-call options merged over the defaults. A frozen options object can't
   * change, so it is resolved once (a route that passes the same frozen
   * object on every request pays nothing per call).
   */
  resolveCallOptions(options: FetchOptions): ResolvedEntryOptions {
    const frozen = Object.isFrozen(options) && options !== null && typeof options === 'object'
    if (frozen) {
      const known = this.resolvedFrozen.get(options)
      if (known !== undefined) return known
    }
    const resolved = resolveEntryOptions(this.defaults, options, 'fetch()')
    if (frozen) this.resolvedFrozen.set(options, resolved)
    return resolved
  }

  private readonly resolvedFrozen = new WeakMap<object, ResolvedEntryOptions>()

  /** Fences for writes made without a Lock: increasing, and roughly ordered by time across processes. */
  nextLocalFence(): number {
    this.lastFence = Math.max(this.lastFence + 1, Date.now() * 1000)
    return this.lastFence
  }

  isHeldOff(key: string, now: number): boolean {
    const until = this.holdOff.get(key)
    return until !== undefined && now < until
  }

  holdOffFor(key: string, ms: number): void {
    if (ms > 0) this.holdOff.set(key, Date.now() + ms)
  }

  publish(kind: BusMessage['kind'], key: string): void {
    if (this.bus === undefined) return
    this.bus.publish({ kind, key, origin: this.id }).catch((error: unknown) => this.reportError(key, 'bus', error))
  }

  countHit(key: string, tier: Tier, negative: boolean): void {
    if (tier === 'local') this.counters.hits.local++
    else this.counters.hits.store++
    if (negative) this.counters.negativeHits++
    if (this.emitter.has('hit')) this.emitter.emit('hit', { key, tier })
  }

  countStale(key: string, tier: Tier, reason: StaleReason): void {
    this.counters.stale[reason]++
    if (this.emitter.has('stale')) this.emitter.emit('stale', { key, tier, reason })
  }

  countMiss(key: string): void {
    this.counters.misses++
    if (this.emitter.has('miss')) this.emitter.emit('miss', { key })
  }

  countCoalesced(key: string): void {
    this.counters.coalesced++
    if (this.emitter.has('coalesced')) this.emitter.emit('coalesced', { key })
  }

  countLoad(key: string, durationMs: number, ok: boolean, background: boolean): void {
    this.counters.loads++
    this.counters.loadMsTotal += durationMs
    if (!ok) this.counters.loadErrors++
    if (this.emitter.has('load')) this.emitter.emit('load', { key, durationMs, ok, background })
  }

  reportError(key: string | undefined, source: ErrorSource, error: unknown): void {
    this.counters.errors++
    if (this.emitter.has('error')) this.emitter.emit('error', key === undefined ? { source, error } : { key, source, error })
  }

  private fallback(key: string, source: 'store' | 'lock', reason: 'error' | 'breaker-open'): void {
    this.counters.fallbacks++
    if (this.emitter.has('fallback')) this.emitter.emit('fallback', { key, source, reason })
  }
}
