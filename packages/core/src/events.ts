/** Where a value came from. */
export type Tier = 'local' | 'store'
/** Why a stale value was served. */
export type StaleReason = 'revalidate' | 'error' | 'timeout' | 'backoff'
/** What failed. */
export type ErrorSource = 'loader' | 'store' | 'lock' | 'bus' | 'codec' | 'listener'
export type BreakerState = 'closed' | 'open' | 'half-open'
export type RecoveryAction = 'queued' | 'replayed' | 'superseded' | 'dropped'
/** What was queued: a key's write, a tag's or the namespace's invalidation, or a Bus message. */
export type RecoveryOperation = 'set' | 'delete' | 'expire' | 'expireTags' | 'deleteTags' | 'clear' | 'publish'

/** Payload of each event `herd.on()` can listen to. */
export interface HerdEvents {
  /** A fresh value was served. */
  hit: { key: string; tier: Tier }
  /** A stale value was served (inside staleWhileRevalidate, or standing in for a failed/slow loader). */
  stale: { key: string; tier: Tier; reason: StaleReason }
  /** No servable value; this caller started (or leads) a load. */
  miss: { key: string }
  /** This caller joined work already under way for the key in this process. */
  coalesced: { key: string }
  /** The loader ran. `background` for refreshes. */
  load: { key: string; durationMs: number; ok: boolean; background: boolean }
  /** A background refresh finished (stale-while-revalidate, XFetch early refresh, keepFresh schedule). */
  refresh: { key: string; durationMs: number; ok: boolean; reason: 'stale' | 'early' | 'schedule' }
  /** Something failed. Loader errors reach the caller too unless a stale value stood in. */
  error: { key?: string; source: ErrorSource; error: unknown }
  /** The Store or Lock was bypassed for this operation (failure or open breaker); in-process protection only. */
  fallback: { key: string; source: 'store' | 'lock'; reason: 'error' | 'breaker-open' }
  /** The circuit breaker changed state. */
  breaker: { from: BreakerState; to: BreakerState }
  /** This process waited for another holder of the key's lock. */
  'lock-wait': { key: string; waitedMs: number; woken: boolean }
  /**
   * A write or invalidation that could not reach the shared tier (or the
   * Bus) was queued, later replayed, found superseded by a newer write, or
   * dropped (the queue is bounded, or the herd closed).
   */
  recovery: { action: RecoveryAction; operation: RecoveryOperation; key: string }
  /** A write reached the Store (or was refused for an older fence). */
  write: { key: string; kind: 'load' | 'set' | 'delete' | 'expire'; accepted: boolean }
}

export type HerdEventName = keyof HerdEvents
export type HerdListener<E extends HerdEventName> = (payload: HerdEvents[E]) => void

/**
 * A tiny typed emitter. `has()` lets the hot path skip building payloads
 * nobody listens to; a throwing listener never breaks a fetch.
 */
export class Emitter {
  private readonly listeners = new Map<HerdEventName, Set<(payload: never) => void>>()
  private readonly onListenerError: (error: unknown) => void

  constructor(onListenerError: (error: unknown) => void) {
    this.onListenerError = onListenerError
  }

  on<E extends HerdEventName>(event: E, listener: HerdListener<E>): () => void {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, (set = new Set()))
    set.add(listener as (payload: never) => void)
    return () => {
      set.delete(listener as (payload: never) => void)
      if (set.size === 0) this.listeners.delete(event)
    }
  }

  /** Whether `event` has a listener: a hit asks on every call, and most herds have none at all (one field read then). */
  has(event: HerdEventName): boolean {
    return this.listeners.size !== 0 && this.listeners.has(event)
  }

  emit<E extends HerdEventName>(event: E, payload: HerdEvents[E]): void {
    const set = this.listeners.get(event)
    if (!set) return
    for (const listener of set) {
      try {
        ;(listener as HerdListener<E>)(payload)
      } catch (error) {
        if (event !== 'error') this.onListenerError(error)
      }
    }
  }

  clear(): void {
    this.listeners.clear()
  }
}
