import type { Loader, ResolvedEntryOptions } from '../options.js'
import type { Acquired } from '../ports/coordinator.js'
import type { Cancel } from './cancel.js'

/** One load's job: everything the fill and the loader need, in one object. */
export interface LoadJob<T = unknown> {
  readonly key: string
  readonly loader: Loader<T>
  readonly options: ResolvedEntryOptions
  /** What the loader sees as `ctx.stale`: the value held before this load, if any. */
  readonly stale: T | undefined
  /** The flight's signal: every caller gone, the hard timeout, or close(). */
  readonly signal: Cancel
  /** Why it loads: `miss` has callers waiting; the others are background refreshes nobody waits for. */
  readonly reason: 'miss' | 'stale' | 'early' | 'schedule'
  /** A miss whose Store read found no entry at all (not even a tombstone): a fused Lock may take the lease cheaper. */
  readonly storeEmpty?: boolean
  /** What the miss's Store read acquired as it read (FusedLock.readOrAcquire): the fill starts from it. */
  readonly claimed?: Acquired
}

/** A value and when it was produced: this process's load, or the one another process wrote while we waited. */
export interface Loaded<T = unknown> {
  readonly value: T | undefined
  readonly createdAt: number
}
