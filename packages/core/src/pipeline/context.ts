import { randomUUID } from 'node:crypto'
import { defaultCodec } from '../codec/default-codec.js'
import type { Bus, BusMessage } from '../contracts/bus.js'
import type { Lock } from '../contracts/lock.js'
import type { Store } from '../contracts/store.js'
import { toMs } from '../duration.js'
import { HerdArgumentError, HerdClosedError } from '../errors.js'
import {
  ENTRY_DEFAULTS,
  type FetchOptions,
  type HerdOptions,
  type ResolvedEntryOptions,
  positiveInteger,
  positiveMs,
  resolveEntryOptions,
} from '../options.js'
import { HoldOff } from '../policies/backoff.js'
import { Breaker } from '../ports/breaker.js'
import { Coordinator } from '../ports/coordinator.js'
import { LocalFences } from '../ports/fence.js'
import { FleetBus } from '../ports/fleet-bus.js'
import { BackendGuard } from '../ports/guard.js'
import { SharedTier } from '../ports/shared-tier.js'
import { HerdClock } from '../time/clock.js'
import { Keyspace } from '../keyspace.js'
import { toBytes } from '../size.js'
import { assertAdapter } from '../validate.js'
import { Bulkhead } from './bulkhead.js'
import type { Flight } from './flight.js'
import { LocalTier } from './local-tier.js'
import { Observer } from './observer.js'
import { Recovery, type RecoveryLimits } from './recovery.js'
import { NAMESPACE_TAG, TagStates } from './tag-states.js'

const DAY_MS = 86_400_000

/** The per-entry settings: herd-wide defaults in createHerd, overrides in fetch. */
const ENTRY_OPTION_KEYS = ['ttl', 'staleWhileRevalidate', 'staleIfError', 'jitter', 'beta', 'negativeTtl', 'softTimeout', 'hardTimeout'] as const

const HERD_OPTION_KEYS = new Set([
  ...ENTRY_OPTION_KEYS,
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
  'maxConcurrentRefreshes',
  'logger',
  'namespace',
  'recovery',
])

/**
 * Everything the read, fill and write paths share: the two ports (shared
 * tier, coordinator) and the bus, the local tier and the per-key
 * bookkeeping, the resolved options, and the observer that reports what
 * happened. Built once per herd from its options.
 */
export class HerdContext {
  readonly id = randomUUID()
  readonly clock = new HerdClock()
  readonly observer: Observer
  readonly defaults: ResolvedEntryOptions
  readonly errorBackoffMs: number
  readonly breaker: Breaker | undefined
  readonly guard: BackendGuard
  readonly tier: SharedTier
  readonly coordinator: Coordinator
  /** The Lock adapter itself, for close(); the pipeline reaches it through the coordinator. */
  readonly lock: Lock | undefined
  readonly bus: FleetBus
  /** What could not reach the shared tier or the Bus, held here and replayed when they are back. */
  readonly recovery: Recovery
  readonly local: LocalTier | undefined
  readonly bulkhead: Bulkhead
  /** Background refreshes running at once (maxConcurrentRefreshes); the rest queue. */
  readonly refreshBulkhead: Bulkhead
  /** One flight per key in this process. */
  readonly flights = new Map<string, Flight>()
  /** Keys not to load or refresh again before a time. */
  readonly holdOff = new HoldOff()
  readonly fences = new LocalFences()
  readonly keys: Keyspace
  /** What this process knows of tag invalidations (expireTags, deleteTags, clear). */
  readonly tags: TagStates
  /** The longest lifetime (ms, stale windows included) of an entry this herd wrote: how long its tag records must last. */
  longestLifetimeMs: number
  closed = false

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
    assertAdapter(options.logger, 'logger', ['error', 'warn'])
    this.observer = new Observer(this.id, options.logger)
    const { store, lock, bus } = options
    this.lock = lock
    const { ttl, staleWhileRevalidate, staleIfError, jitter, beta, negativeTtl, softTimeout, hardTimeout } = options
    this.defaults = resolveEntryOptions(
      ENTRY_DEFAULTS,
      { ttl, staleWhileRevalidate, staleIfError, jitter, beta, negativeTtl, softTimeout, hardTimeout },
      'createHerd()',
    )
    const leaseMs = positiveMs(options.lease ?? 5_000, 'lease')
    const operationTimeoutMs = positiveMs(options.operationTimeout ?? 1_000, 'operationTimeout')
    this.errorBackoffMs = toMs(options.errorBackoff ?? 1_000, 'errorBackoff')
    this.bulkhead = new Bulkhead(positiveInteger(options.maxConcurrentLoads ?? Infinity, 'maxConcurrentLoads', true))
    this.refreshBulkhead = new Bulkhead(positiveInteger(options.maxConcurrentRefreshes ?? 64, 'maxConcurrentRefreshes', true))
    this.local = createLocalTier(options.local, store)
    this.keys = Keyspace.of(options.namespace)
    const d = this.defaults
    this.longestLifetimeMs = Math.max(DAY_MS, d.ttl + Math.max(d.staleWhileRevalidate, d.staleIfError))
    this.tags = new TagStates(
      store === undefined ? Number.POSITIVE_INFINITY : this.localTtlMs,
      store === undefined ? undefined : (tags) => this.tier.readRecords(tags),
      () => this.longestLifetimeMs,
    )
    this.breaker = createBreaker(options.breaker, store, lock, this.observer, () => this.recovery.kick())
    this.guard = new BackendGuard(
      this.breaker,
      operationTimeoutMs,
      (source, key, error) => {
        this.observer.error(key, source, error)
        this.observer.fallback(key, source, 'error')
      },
      (source, key) => this.observer.fallback(key, source, 'breaker-open'),
    )
    this.tier = new SharedTier(store, options.codec ?? defaultCodec, this.guard, this.observer, this.keys, this.tags, this.clock, (key, read) =>
      this.recovery.overlay(key, read),
    )
    this.coordinator = new Coordinator(
      lock,
      store,
      bus,
      this.tier,
      this.guard,
      this.fences,
      this.clock,
      this.observer,
      leaseMs,
      operationTimeoutMs,
      this.keys,
    )
    if (lock?.fused !== undefined && this.coordinator.fused === undefined) {
      this.observer.misuse(
        'herd: the Lock can fuse with a Store and Bus, but not with the ones this herd was given: each miss costs the plain round trips. Build store, lock and bus from one backend (e.g. redisBackend(client)).',
      )
    }
    this.bus = new FleetBus(
      bus,
      this.keys,
      this.id,
      (message) => this.onBusMessage(message),
      () => this.onBusGap(),
      this.observer,
      (message) => {
        this.recovery.keep({ kind: 'publish', message, at: this.clock.now() })
      },
    )
    this.recovery = new Recovery(this, resolveRecovery(options.recovery, store, bus))
  }

  /** Subscribes to the Bus and syncs the Store's clock: the herd's own background work, stopped by close(). */
  start(): void {
    this.bus.start()
    this.tier.startClockSync(this.clock)
  }

  /**
   * Per-call options merged over the defaults. A frozen options object can't
   * change, so it is resolved once (a route that passes the same frozen
   * object on every request pays nothing per call).
   */
  resolveCallOptions(options: FetchOptions, where: string): ResolvedEntryOptions {
    const frozen = options !== null && typeof options === 'object' && Object.isFrozen(options)
    if (frozen) {
      const known = this.resolvedFrozen.get(options)
      if (known !== undefined) return known
    }
    const resolved = resolveEntryOptions(this.defaults, options, where, FETCH_OPTION_KEYS)
    if (frozen) this.resolvedFrozen.set(options, resolved)
    return resolved
  }

  private readonly resolvedFrozen = new WeakMap<object, ResolvedEntryOptions>()

  assertOpen(operation: string): void {
    if (this.closed) throw new HerdClosedError(operation)
  }

  /** How long a tombstone must outlive its write: past any lease, and any load, that began before it. */
  get tombstoneMs(): number {
    return this.coordinator.leaseMs + this.defaults.hardTimeout
  }

  /** How long this process trusts what it holds without asking the Store (the local tier's ttl). */
  private get localTtlMs(): number {
    return this.local?.ttl ?? 5_000
  }

  /** Messages may have been missed: nothing held here is trusted until read again. */
  private onBusGap(): void {
    this.local?.clear()
    this.tags.recheck(this.clock.now())
  }

  private onBusMessage(message: BusMessage): void {
    if (message.kind === 'invalidate') {
      const record = this.keys.fromRecord(message.key)
      if (record === undefined || typeof message.at !== 'number') return
      this.tags.raise(record.tag, record.kind, message.at)
      if (record.tag === NAMESPACE_TAG && record.kind === 'deleted') this.local?.clear()
      return
    }
    // Another process changed the key: our copy may be older than the Store's. Unless it is the very entry that
    // process wrote: a waiter woken with it (the fill's wake-up) may hear the fill's Bus message after it.
    const key = this.keys.fromEntry(message.key)
    if (key === undefined) return
    if (message.kind === 'set' && typeof message.fence === 'number') this.local?.deleteUnless(key, message.fence)
    else this.local?.delete(key)
  }
}

export const FETCH_OPTION_KEYS: ReadonlySet<string> = new Set([...ENTRY_OPTION_KEYS, 'signal', 'tags', 'local', 'lock', 'bus'])

/** Recovery is on wherever there is something to recover to: a Store or a Bus. */
function resolveRecovery(recovery: HerdOptions['recovery'], store: Store | undefined, bus: Bus | undefined): RecoveryLimits | undefined {
  if (recovery === false || (store === undefined && bus === undefined)) return undefined
  if (recovery !== undefined && (recovery === null || typeof recovery !== 'object')) {
    throw new HerdArgumentError('herd: recovery must be false or { maxOperations, maxBytes }')
  }
  return {
    maxOperations: positiveInteger(recovery?.maxOperations ?? 10_000, 'recovery.maxOperations'),
    maxBytes: positiveInteger(recovery?.maxBytes ?? 16 * 1024 * 1024, 'recovery.maxBytes'),
  }
}

function createLocalTier(local: HerdOptions['local'], store: Store | undefined): LocalTier | undefined {
  if (local === false) {
    if (store === undefined) throw new HerdArgumentError('herd: local: false needs a store; without one the local tier is the only tier')
    return undefined
  }
  if (local !== undefined && (local === null || typeof local !== 'object')) {
    throw new HerdArgumentError('herd: local must be false or { maxSize, maxBytes, maxEntryBytes, ttl, freeze }')
  }
  for (const name of Object.keys(local ?? {})) {
    if (!LOCAL_OPTION_KEYS.has(name)) throw new HerdArgumentError(`herd: unknown option "local.${name}" in createHerd()`)
  }
  const maxSize = positiveInteger(local?.maxSize ?? 10_000, 'local.maxSize')
  const maxBytes = local?.maxBytes === undefined ? Number.POSITIVE_INFINITY : toBytes(local.maxBytes, 'local.maxBytes')
  // Without a Store the local tier is the only tier: an entry too big for it would be lost, so the per-entry bound needs a Store.
  const maxEntryBytes =
    local?.maxEntryBytes === undefined || store === undefined ? Number.POSITIVE_INFINITY : toBytes(local.maxEntryBytes, 'local.maxEntryBytes')
  if (local?.freeze !== undefined && typeof local.freeze !== 'boolean') throw new HerdArgumentError('herd: local.freeze must be true or false')
  // Without a Store the local tier holds entries for their whole life; in front of one it only borrows them.
  const ttl = store === undefined ? Infinity : positiveMs(local?.ttl ?? 5_000, 'local.ttl')
  return new LocalTier({ maxSize, maxBytes, maxEntryBytes, freeze: local?.freeze ?? true }, ttl)
}

const LOCAL_OPTION_KEYS: ReadonlySet<string> = new Set(['maxSize', 'maxBytes', 'maxEntryBytes', 'ttl', 'freeze'])

function createBreaker(
  breaker: HerdOptions['breaker'],
  store: Store | undefined,
  lock: Lock | undefined,
  observer: Observer,
  onClosed: () => void,
): Breaker | undefined {
  if (breaker === false || (store === undefined && lock === undefined)) return undefined
  if (breaker !== undefined && (breaker === null || typeof breaker !== 'object')) {
    throw new HerdArgumentError('herd: breaker must be false or { threshold, resetAfter }')
  }
  return new Breaker(
    positiveInteger(breaker?.threshold ?? 5, 'breaker.threshold'),
    positiveMs(breaker?.resetAfter ?? 5_000, 'breaker.resetAfter'),
    (from, to) => {
      observer.breaker(from, to)
      if (to === 'closed') onClosed()
    },
  )
}
