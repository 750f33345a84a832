import {
  type FetchContext,
  type LoadContext,
  type LockContext,
  type WriteContext,
  breakerChannel,
  busChannel,
  fetchChannel,
  loadChannel,
  lockChannel,
  writeChannel,
} from '../diagnostics.js'
import type { BusMessage } from '../contracts/bus.js'
import { HerdLog, type HerdLogger } from '../logger.js'
import { type BreakerState, Emitter, type ErrorSource, type RecoveryAction, type RecoveryOperation, type StaleReason, type Tier } from '../events.js'
import { type Counters, newCounters } from '../stats.js'

export type WriteKind = 'load' | 'set' | 'delete' | 'expire'

/**
 * What the herd reports about itself: the counters behind stats() and the
 * events behind on(). Every count goes through here, so a new sink (a
 * diagnostics channel, a logger) is one place to add; payloads are only
 * built when someone listens.
 */
export class Observer {
  readonly counters: Counters = newCounters()
  readonly emitter = new Emitter((error) => this.error(undefined, 'listener', error))

  private readonly log: HerdLog

  /** `herd` is the herd's id, in every diagnostics context and log line. */
  constructor(
    readonly herd: string,
    logger?: HerdLogger,
  ) {
    this.log = new HerdLog(logger, herd)
  }

  /** Runs a fetch on the `herd:fetch` tracing channel when someone subscribes; `run` fills in how it was answered. */
  traceFetch<T>(key: string, run: (context: FetchContext | undefined) => Promise<T>): Promise<T> {
    return trace(fetchChannel, () => ({ herd: this.herd, key }), run)
  }

  traceLoad<T>(key: string, reason: LoadContext['reason'], run: (context: LoadContext | undefined) => Promise<T>, keys?: readonly string[]): Promise<T> {
    return trace(
      loadChannel,
      () =>
        keys === undefined
          ? { herd: this.herd, key, reason, background: reason !== 'miss' }
          : { herd: this.herd, key, keys, reason, background: reason !== 'miss' },
      run,
    )
  }

  traceLock<T>(key: string, operation: LockContext['operation'], run: (context: LockContext | undefined) => Promise<T>): Promise<T> {
    return trace(lockChannel, () => ({ herd: this.herd, key, operation }), run)
  }

  traceWrite<T>(key: string, kind: WriteContext['kind'], run: (context: WriteContext | undefined) => Promise<T>): Promise<T> {
    return trace(writeChannel, () => ({ herd: this.herd, key, kind }), run)
  }

  breaker(from: BreakerState, to: BreakerState): void {
    if (breakerChannel.hasSubscribers) breakerChannel.publish({ herd: this.herd, from, to })
    if (to === 'open')
      this.log.write(
        'warn',
        { from, to },
        'herd: the Store or Lock keeps failing; the breaker opened: serving with in-process protection only until it recovers',
      )
    else if (to === 'closed') this.log.write('info', { from, to }, 'herd: the Store and Lock answer again; the breaker closed')
    else this.log.write('debug', { from, to }, 'herd: the breaker lets one call through to probe the Store or Lock')
    this.emitter.emit('breaker', { from, to })
  }

  /** A write or invalidation the shared tier (or Bus) did not take: queued, replayed, superseded or dropped. */
  recovery(action: RecoveryAction, operation: RecoveryOperation, key: string, pending: number): void {
    const counts = this.counters.recovery
    counts[action]++
    counts.pending = pending
    if (action === 'dropped')
      this.log.throttled(
        'recovery-dropped',
        'warn',
        { operation, key, pending },
        'herd: a write or invalidation made during an outage was dropped before it could be replayed (the recovery queue is bounded, or the herd closed)',
      )
    else if (action === 'queued')
      this.log.throttled(
        'recovery-queued',
        'warn',
        { operation, key, pending },
        'herd: a write or invalidation could not reach the Store or Bus; it holds in this process and will be replayed when they are back',
      )
    else this.log.write('debug', { action, operation, key, pending }, `herd: a queued ${operation} was ${action}`)
    if (this.emitter.has('recovery')) this.emitter.emit('recovery', { action, operation, key })
  }

  /** Something the user should fix in how the herd is set up (an adapter misused, an option that has no effect). */
  misuse(message: string, fields: object = {}): void {
    this.log.write('warn', fields, message)
  }

  bus(direction: 'publish' | 'receive', message: BusMessage): void {
    if (busChannel.hasSubscribers) busChannel.publish({ herd: this.herd, direction, kind: message.kind, key: message.key, origin: message.origin })
  }

  hit(key: string, tier: Tier, negative: boolean): void {
    if (tier === 'local') this.counters.hits.local++
    else this.counters.hits.store++
    if (negative) this.counters.negativeHits++
    if (this.emitter.has('hit')) this.emitter.emit('hit', { key, tier })
  }

  stale(key: string, tier: Tier, reason: StaleReason): void {
    this.counters.stale[reason]++
    if (this.emitter.has('stale')) this.emitter.emit('stale', { key, tier, reason })
  }

  miss(key: string): void {
    this.counters.misses++
    if (this.emitter.has('miss')) this.emitter.emit('miss', { key })
  }

  coalesced(key: string): void {
    this.counters.coalesced++
    if (this.emitter.has('coalesced')) this.emitter.emit('coalesced', { key })
  }

  /** One loader run: for a batch loader, of every key in `keys` (one run counted, one `load` event per key). */
  load(key: string | readonly string[], durationMs: number, ok: boolean, background: boolean): void {
    this.counters.loads++
    this.counters.loadMsTotal += durationMs
    if (!ok) this.counters.loadErrors++
    if (!this.emitter.has('load')) return
    if (typeof key === 'string') this.emitter.emit('load', { key, durationMs, ok, background })
    else for (const each of key) this.emitter.emit('load', { key: each, durationMs, ok, background })
  }

  refresh(key: string, durationMs: number, ok: boolean, reason: 'stale' | 'early' | 'schedule'): void {
    if (!ok) this.counters.refreshErrors++
    if (this.emitter.has('refresh')) this.emitter.emit('refresh', { key, durationMs, ok, reason })
  }

  refreshStarted(reason: 'stale' | 'early' | 'schedule'): void {
    this.counters.refreshes++
    if (reason === 'early') this.counters.earlyRefreshes++
  }

  timeout(): void {
    this.counters.timeouts++
  }

  lockWait(key: string, waitedMs: number, woken: boolean): void {
    this.counters.lockWaits++
    this.counters.lockWaitMsTotal += waitedMs
    if (this.emitter.has('lock-wait')) this.emitter.emit('lock-wait', { key, waitedMs, woken })
  }

  /** A write the Store answered: accepted, or refused for an older fence. */
  write(key: string, kind: WriteKind, accepted: boolean): void {
    if (!accepted) this.counters.fencedOut++
    if (this.emitter.has('write')) this.emitter.emit('write', { key, kind, accepted })
  }

  fallback(key: string, source: 'store' | 'lock', reason: 'error' | 'breaker-open'): void {
    this.counters.fallbacks++
    if (this.emitter.has('fallback')) this.emitter.emit('fallback', { key, source, reason })
  }

  error(key: string | undefined, source: ErrorSource, error: unknown): void {
    this.counters.errors++
    if (this.log.enabled) this.logError(key, source, error)
    if (this.emitter.has('error')) this.emitter.emit('error', key === undefined ? { source, error } : { key, source, error })
  }

  /** Backend failures are warnings, once per source per 30 s; loader errors reach the caller and are only debug lines. */
  private logError(key: string | undefined, source: ErrorSource, error: unknown): void {
    const fields = key === undefined ? { source, err: error } : { key, source, err: error }
    const trouble = BACKEND_TROUBLE[source]
    if (trouble !== undefined) this.log.throttled(source, 'warn', fields, trouble)
    else if (source === 'loader') this.log.write('debug', fields, 'herd: a loader failed')
    else if (source === 'codec') this.log.throttled('codec', 'error', fields, 'herd: an entry in the Store could not be decoded; it was treated as a miss')
    else this.log.throttled(source, 'error', fields, 'herd: an event listener threw; the other listeners and the fetch went on')
  }
}

export interface Traceable<C> {
  readonly hasSubscribers: boolean
  tracePromise<T>(fn: () => Promise<T>, context: C): Promise<T>
}

/** Runs `run` traced when someone subscribes, plainly otherwise: nothing is built on the zero-cost path. */
function trace<T, C extends object>(channel: Traceable<C>, context: () => C, run: (context: C | undefined) => Promise<T>): Promise<T> {
  if (!channel.hasSubscribers) return run(undefined)
  const ctx = context()
  return channel.tracePromise(() => run(ctx), ctx)
}

const BACKEND_TROUBLE: Partial<Record<ErrorSource, string>> = {
  store: 'herd: a Store call failed; this read or write fell back to in-process protection',
  lock: 'herd: a Lock call failed; this key fell back to in-process protection',
  bus: 'herd: the Bus failed; other processes may serve their local copies until it recovers',
}
