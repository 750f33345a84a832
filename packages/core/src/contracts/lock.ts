import type { Bus, BusMessage } from './bus.js'
import type { Store, StoredEntry } from './store.js'

/** Proof of holding a key's lock. */
export interface Lease {
  key: string
  /** Random owner token: only the holder can release or extend. */
  token: string
  /**
   * Monotonic per key: every lease and every fence() is higher than the last,
   * also across the backend losing its data (a restart without persistence,
   * FLUSHALL, a failover to a replica that lagged): seed it from a clock.
   */
  fence: number
}

/**
 * One loader per key across the fleet. Leases expire on their own so a
 * crashed holder can't block a key for longer than its lease.
 */
export interface Lock {
  /** A lease for `ttlMs`, or `undefined` when someone else holds the key. */
  acquire(key: string, ttlMs: number): Promise<Lease | undefined>
  /** Releases the lease if it is still ours, waking every waiter on the key. Resolves whether it was. */
  release(lease: Lease): Promise<boolean>
  /** Pushes the lease's expiry to `ttlMs` from now if it is still ours. Resolves whether it was. */
  extend(lease: Lease, ttlMs: number): Promise<boolean>
  /** A fence higher than every one handed out so far for `key`, for writes made without a lease. */
  fence(key: string): Promise<number>
  /**
   * Resolves `true` when the key is free: its lease was released (the holder
   * filled the Store or gave up) or has expired (where the Lock can tell,
   * so waiters take over from a crashed holder promptly), and at once when
   * the key is free already. Resolves `false` after `timeoutMs` or when
   * `signal` aborts. Never rejects for those; must not poll in a tight loop.
   */
  wait(key: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean>
  /**
   * Optional: opens what waiting for a key will need (the Redis Lock
   * subscribes its wake channel), so the first miss after a start doesn't
   * wait for it. `herd.ready()` awaits it. Resolves whether it is ready;
   * never rejects, and settles within the Lock's own command timeout.
   */
  ready?(): Promise<boolean>
  /** Optional, for `herd.inspect()`: whether the key's lease is held right now, and for how much longer. */
  inspect?(key: string): Promise<{ held: boolean; expiresInMs?: number }>
  /**
   * Optional capability of a Lock that shares one backend with a Store (and
   * possibly a Bus): the miss path in fewer round trips. The herd uses it
   * only when `fused.store` is its own Store (and `fused.bus`, when set, its
   * own Bus); any other pair of adapters takes the plain path above, which
   * stays correct on its own.
   */
  readonly fused?: FusedLock
  /** Releases what the Lock itself opened (never a client the user passed in). */
  close?(): Promise<void>
}

/** What a fused acquire found: our lease, or who holds the key; with the entry stored right now either way. */
export type FusedAcquire =
  | {
      readonly lease: Lease
      readonly entry: StoredEntry | undefined
      /**
       * The lease was taken without a fence (its `fence` is 0 and means
       * nothing): `fill` takes the next fence as it writes, as `write` does,
       * and reports it. A backend may do this when the caller said the key
       * had no entry, to take the lease with one plain command.
       */
      readonly fenceAtFill?: boolean
    }
  | {
      readonly lease: undefined
      /** The entry stored right now: the holder may have filled it between our read and this call. */
      readonly entry: StoredEntry | undefined
      /** How long the holder's lease still runs, when the backend can tell. */
      readonly expiresInMs?: number
    }

/**
 * What a read that may acquire found: the entry stored (any state, as
 * Store.get returns it), or, when the key had none, the lease taken or the
 * holder's (`acquired`, as `acquire` answers). Neither: a plain miss, and
 * the caller acquires as after any miss.
 */
export interface FusedRead {
  readonly entry: StoredEntry | undefined
  readonly acquired?: FusedAcquire
}

/** What a waiter learned: whether the key was released (or its lease ran out), and the entry the holder filled when it came with the wake-up. */
export interface FusedWait {
  readonly woken: boolean
  readonly entry?: StoredEntry
}

/** What the caller of a fused acquire knows about the key. */
export interface FusedAcquireHint {
  readonly afterMiss?: boolean
}

/** What a fill did; `fence` is the fence the write took, for a lease acquired with `fenceAtFill` (else the lease's own). */
export interface FusedFilled {
  readonly written: boolean
  readonly released: boolean
  readonly fence?: number
}

/** A write the holder makes as it releases: the entry and how long the Store keeps it (as Store.set's ttlMs). */
export interface FusedWrite {
  readonly entry: StoredEntry
  readonly ttlMs: number
}

/**
 * Lock and Store (and Bus) operations fused into one round trip each, so a
 * cold miss costs: Store.get; `acquire`; `fill`. Every operation keeps the
 * plain contracts' meaning: fences as Store.set, leases as Lock, messages as
 * Bus (each subscriber of `bus` receives `notify` once, in order; where the
 * operation took the fence itself and `notify` has none, the Lock may add
 * it as `fence`, so a process holding that entry keeps it). With
 * `readOrAcquire`, a miss the herd expected costs two: it; `fill`.
 */
export interface FusedLock {
  /** The Store this Lock fuses with. */
  readonly store: Store
  /** The Bus `notify` messages are delivered on, when there is one. */
  readonly bus?: Bus
  /**
   * Lock.acquire plus Store.get of the key, atomically: the winner's
   * double-check costs no extra read. `hint.afterMiss`: the caller's Store
   * read just found no servable entry, so the backend may try a cheaper way
   * first that works only while the key has no entry (it must still answer
   * correctly when one has landed since).
   */
  acquire(key: string, ttlMs: number, hint?: FusedAcquireHint): Promise<FusedAcquire>
  /**
   * Atomically: Store.set of `write` (skipped when undefined, e.g. a failed
   * load; refused when a higher fence is stored), Lock.release of `lease` if
   * still ours, a wake-up of every waiter of the key in every process (with
   * the entry when it was written and the backend can carry it), and
   * `notify` on `bus`. For a lease acquired with `fenceAtFill` the write
   * takes the next fence instead of `write.entry.fence` (reported as
   * `fence`), and is refused when anything was written since the acquire.
   */
  fill(lease: Lease, write: FusedWrite | undefined, notify?: BusMessage): Promise<FusedFilled>
  /**
   * Optional: Store.get and, only when the key has no entry, `acquire` after
   * a miss, in one round trip. The herd calls it instead of Store.get where
   * a miss is likely and it would acquire next (a foreground miss path), so
   * a cold key costs `readOrAcquire`; `fill`. A lease it grants is the
   * caller's like any other: filled, or released.
   */
  readOrAcquire?(key: string, ttlMs: number): Promise<FusedRead>
  /** Lock.wait that also hands over the entry the holder's fill carried, when it carried one. */
  wait(key: string, timeoutMs: number, signal?: AbortSignal): Promise<FusedWait>
  /**
   * Optional: a write without a lease (set, delete's tombstone) in one round
   * trip: the next fence (as Lock.fence) replaces `entry.fence`, then
   * Store.set, then `notify`. Resolves the fence used and whether it was written.
   */
  write?(key: string, entry: StoredEntry, ttlMs: number, notify?: BusMessage): Promise<{ fence: number; written: boolean }>
}
