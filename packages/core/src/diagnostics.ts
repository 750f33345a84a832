import { channel, tracingChannel } from 'node:diagnostics_channel'
import type { BreakerState, Tier } from './events.js'
import type { BusMessage } from './contracts/bus.js'

/*
 * herd's diagnostics channels (node:diagnostics_channel), public API: APM
 * tools, @herd/otel and your own code subscribe to them by name. Each
 * tracing channel publishes `tracing:<name>:start`, `:end`, `:asyncStart`,
 * `:asyncEnd` and `:error` with one context object per operation, filled in
 * as the operation goes (the fields marked "at the end" are set before
 * asyncEnd). Nothing is built or published while nobody subscribes.
 *
 * Every context carries `herd`, the herd's id (`herd.id`), so one
 * subscriber can tell several herds apart.
 */

/** `herd:fetch`: one fetch() or fetchEntry() call. */
export interface FetchContext {
  herd: string
  key: string
  /** At the end: how the caller was answered (`coalesced`: it joined work already under way). */
  status?: 'hit' | 'stale' | 'miss' | 'coalesced'
  /** At the end, for hit and stale: the tier that answered. */
  tier?: Tier
  result?: unknown
  error?: unknown
}

/** `herd:load`: one loader run (of a batch loader too: `keys`, and `key` is the first of them). */
export interface LoadContext {
  herd: string
  key: string
  /** For a batch loader (fetchMany): every key it loads. */
  keys?: readonly string[]
  /** `miss`: callers wait for it; the others are background refreshes. */
  reason: 'miss' | 'stale' | 'early' | 'schedule'
  background: boolean
  /** At the end: how long the loader ran, in ms, and whether it returned a value (or "not found"). */
  durationMs?: number
  ok?: boolean
  error?: unknown
}

/** `herd:lock`: one attempt to become the key's loader (`acquire`), or one wait for its holder (`wait`). */
export interface LockContext {
  herd: string
  key: string
  operation: 'acquire' | 'wait'
  /** At the end. acquire: `lease`, `busy` (another process holds it) or `solo` (no Lock, or unreachable). wait: `released`, `timeout` or `solo`. */
  outcome?: 'lease' | 'busy' | 'solo' | 'released' | 'timeout'
  /** At the end of a wait: how long it waited, in ms. */
  waitedMs?: number
  error?: unknown
}

/** `herd:write`: one write of an entry (a load's result, set(), delete()'s tombstone, expire()). */
export interface WriteContext {
  herd: string
  key: string
  kind: 'load' | 'set' | 'delete' | 'expire'
  /** At the end: in the shared tier, refused there for an older fence, or in this process only. */
  outcome?: 'written' | 'fenced-out' | 'local-only'
  error?: unknown
}

/** `herd:breaker` (a plain channel): the circuit breaker around the Store and Lock changed state. */
export interface BreakerMessage {
  herd: string
  from: BreakerState
  to: BreakerState
}

/** `herd:bus` (a plain channel): an invalidation this herd published, or received from another process. */
export interface BusEventMessage {
  herd: string
  direction: 'publish' | 'receive'
  kind: BusMessage['kind']
  /** The entry's key; for `invalidate`, the tag record's key. */
  key: string
  origin: string
}

export const fetchChannel = tracingChannel<unknown, FetchContext>('herd:fetch')
export const loadChannel = tracingChannel<unknown, LoadContext>('herd:load')
export const lockChannel = tracingChannel<unknown, LockContext>('herd:lock')
export const writeChannel = tracingChannel<unknown, WriteContext>('herd:write')
export const breakerChannel = channel('herd:breaker')
export const busChannel = channel('herd:bus')
