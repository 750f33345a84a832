import type { Bus, BusMessage } from '../contracts/bus.js'
import type { FusedAcquireHint, FusedLock, Lease, Lock } from '../contracts/lock.js'
import type { Store } from '../contracts/store.js'
import type { Keyspace } from '../keyspace.js'
import type { Observer } from '../pipeline/observer.js'
import { type Entry, toStored } from '../policies/freshness.js'
import { MissOdds } from '../policies/miss-odds.js'
import type { HerdClock } from '../time/clock.js'
import { every } from '../time/timers.js'
import type { Fence, LocalFences } from './fence.js'
import type { BackendGuard } from './guard.js'
import { MISS, type SharedTier, type TierRead, type TierWrite } from './shared-tier.js'
import type { Cancel } from '../pipeline/cancel.js'

const AFTER_MISS: FusedAcquireHint = { afterMiss: true }

/** A lease this process holds, and whether it has been given back (a fused fill releases as it writes). */
export interface HeldLease {
  /** The user's key (the lease's own key is the backend's name for it). */
  readonly key: string
  readonly lease: Lease
  /** `next`: the lease came without a fence; the fused fill takes one as it writes (FusedAcquire.fenceAtFill). */
  readonly fence: Fence | 'next'
  released: boolean
}

/**
 * What an attempt to become the key's one loader came to:
 * - `lease`: ours. `current` is what the Store holds now, when the Lock read
 *   it in the same round trip (fused); otherwise the caller reads it.
 * - `busy`: another process holds it; `current` as above.
 * - `solo`: no fleet-wide coordination. `degraded` when a Lock is configured
 *   but unreachable (in-process protection only, and a local fence).
 */
export type Acquired =
  | { readonly kind: 'lease'; readonly held: HeldLease; readonly current: TierRead | undefined }
  | { readonly kind: 'busy'; readonly current: TierRead | undefined }
  | { readonly kind: 'solo'; readonly fence: Fence; readonly degraded: boolean }

/**
 * What waiting for the holder came to: `released` (its fill may come with
 * the wake-up: `current`), `timeout` (the lease ran out or the wait did: try
 * to take over), or `solo` (the Lock became unreachable).
 */
export type Waited =
  | { readonly kind: 'released'; readonly current: TierRead | undefined }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'solo'; readonly fence: Fence }

/** An entry to write as the lease is given back. */
export interface LeaseWrite {
  readonly entry: Entry
  readonly encoded: string
  readonly keepUntil: number
}

/** Our lease ran out and someone else may hold the key: stop, and wait for their value instead. */
export class LeaseLostError extends Error {
  constructor(key: string) {
    super(`herd: lost the lease on "${key}" while loading`)
    this.name = 'LeaseLostError'
  }
}

/**
 * The fleet's coordination as the pipeline sees it: the Lock (fused with
 * the Store when the adapters allow) behind the breaker and typed outcomes.
 * No lease it grants is ever lost track of: one that arrives after its
 * caller gave up, or after the call timed out, is released at once.
 */
export class Coordinator {
  /** The fused operations, when the Lock fuses with this herd's own Store (and Bus). */
  readonly fused: FusedLock | undefined

  constructor(
    private readonly lock: Lock | undefined,
    store: Store | undefined,
    bus: Bus | undefined,
    private readonly tier: SharedTier,
    private readonly guard: BackendGuard,
    private readonly fences: LocalFences,
    private readonly clock: HerdClock,
    private readonly observer: Observer,
    readonly leaseMs: number,
    private readonly operationTimeoutMs: number,
    private readonly keys: Keyspace,
  ) {
    const fused = lock?.fused
    this.fused = fused !== undefined && store !== undefined && fused.store === store && (fused.bus === undefined || fused.bus === bus) ? fused : undefined
  }

  /** How this process's recent miss-path reads went: whether the next is worth reading with readOrAcquire. */
  private readonly missOdds = new MissOdds()

  /**
   * Whether the Store read of a miss path that fills next (`useLock`) should
   * be `readClaiming`'s: the fused Lock can take the lease as it reads, and
   * a miss is likely.
   */
  claimsOnRead(useLock: boolean): boolean {
    return useLock && this.fused?.readOrAcquire !== undefined && this.missOdds.likely()
  }

  /** A miss-path read's outcome, whichever way it was read. */
  noteRead(read: TierRead): void {
    this.missOdds.record(read.kind === 'miss')
  }

  /**
   * The Store read and, when the key has no entry, the acquire after it, in
   * one round trip (FusedLock.readOrAcquire). `claimed` is that acquire's
   * outcome, for the fill to start from: a lease (the caller must fill or
   * release it), or busy. Never rejects: a failed call reads as a miss and
   * claims nothing, and a lease granted to a caller that has gone is
   * released at once.
   */
  async readClaiming(key: string, signal: Cancel): Promise<{ read: TierRead; claimed: Acquired | undefined }> {
    const fused = this.fused!
    const { read, found } = await this.tier.readVia(
      key,
      (stored) => fused.readOrAcquire!(stored, this.leaseMs),
      (late) => this.releaseLate(key, late.acquired?.lease),
    )
    const acquired = found?.acquired
    if (acquired === undefined) return { read, claimed: undefined }
    let claimed: Acquired
    if (acquired.lease === undefined) claimed = { kind: 'busy', current: read }
    else {
      try {
        claimed = this.granted(key, acquired.lease, signal, read, acquired.fenceAtFill === true)
      } catch {
        // Every caller left while Redis answered: granted() gave the lease back; the read still stands.
        return { read, claimed: undefined }
      }
    }
    // The acquire happened inside the read: traced as one that took no time of its own.
    void this.observer.traceLock(key, 'acquire', async (context) => {
      if (context !== undefined) context.outcome = claimed.kind
    })
    return { read, claimed }
  }

  /** Whether a fused fill also delivers the Bus message (so the caller must not publish it again). */
  get notifiesOnFill(): boolean {
    return this.fused?.bus !== undefined
  }

  /**
   * `useLock: false` (a call's `lock: false`): in-process protection only,
   * the write ordered by the clock. `afterMiss`: the Store just had no
   * servable entry for the key (a fused Lock may take the lease cheaper).
   */
  acquire(key: string, signal: Cancel, useLock = true, afterMiss = false): Promise<Acquired> {
    signal.throwIfAborted()
    if (!useLock) return Promise.resolve({ kind: 'solo', fence: this.localFence('fleet'), degraded: false })
    return this.observer.traceLock(key, 'acquire', async (context) => {
      const acquired = await this.tryAcquire(key, signal, afterMiss)
      if (context !== undefined) context.outcome = acquired.kind
      return acquired
    })
  }

  private async tryAcquire(key: string, signal: Cancel, afterMiss: boolean): Promise<Acquired> {
    const lock = this.lock
    if (lock === undefined) return { kind: 'solo', fence: this.localFence('fleet'), degraded: false }
    const fused = this.fused
    if (fused !== undefined) {
      const name = this.keys.entry(key)
      const hint = afterMiss ? AFTER_MISS : undefined
      const result = await this.guard.run('lock', key, () => fused.acquire(name, this.leaseMs, hint), {
        onLate: (late) => this.releaseLate(key, late.lease),
      })
      if (!result.ok) return { kind: 'solo', fence: this.localFence('local'), degraded: true }
      const acquired = result.value
      const current = acquired.entry === undefined ? MISS : await this.tier.checked(key, acquired.entry)
      if (acquired.lease === undefined) return { kind: 'busy', current }
      return this.granted(key, acquired.lease, signal, current, acquired.fenceAtFill === true)
    }
    const result = await this.guard.run('lock', key, () => lock.acquire(this.keys.entry(key), this.leaseMs), {
      onLate: (late) => this.releaseLate(key, late),
    })
    if (!result.ok) return { kind: 'solo', fence: this.localFence('local'), degraded: true }
    return result.value === undefined ? { kind: 'busy', current: undefined } : this.granted(key, result.value, signal, undefined)
  }

  /** Waits for the holder to release (pushed by the Lock, not polled), at most a lease and an operation timeout. */
  wait(key: string, signal: Cancel): Promise<Waited> {
    return this.observer.traceLock(key, 'wait', async (context) => {
      const started = performance.now()
      const waited = await this.waitFor(key, signal)
      const waitedMs = performance.now() - started
      this.observer.lockWait(key, waitedMs, waited.kind === 'released')
      if (context !== undefined) Object.assign(context, { outcome: waited.kind, waitedMs })
      return waited
    })
  }

  private async waitFor(key: string, signal: Cancel): Promise<Waited> {
    const lock = this.lock!
    const fused = this.fused
    const options = { timeoutMs: this.leaseMs + this.operationTimeoutMs }
    if (fused !== undefined) {
      const result = await this.guard.run('lock', key, () => fused.wait(this.keys.entry(key), this.leaseMs, signal.signal), options)
      if (!result.ok) return { kind: 'solo', fence: this.localFence('local') }
      const { woken, entry } = result.value
      return woken ? { kind: 'released', current: entry === undefined ? undefined : await this.tier.checked(key, entry) } : { kind: 'timeout' }
    }
    const result = await this.guard.run('lock', key, () => lock.wait(this.keys.entry(key), this.leaseMs, signal.signal), options)
    if (!result.ok) return { kind: 'solo', fence: this.localFence('local') }
    return result.value ? { kind: 'released', current: undefined } : { kind: 'timeout' }
  }

  /** A fence for a write made without a lease: the fleet's when the Lock answers, else this process's own. */
  async fence(key: string): Promise<Fence> {
    const lock = this.lock
    if (lock === undefined) return this.localFence('fleet')
    const result = await this.guard.run('lock', key, () => lock.fence(this.keys.entry(key)))
    return result.ok ? { kind: 'fleet', value: result.value } : this.localFence('local')
  }

  /** Renews the lease every third of it while the holder works; `onLost` when the Lock says it is no longer ours. */
  hold(held: HeldLease, onLost: () => void): { stop(): void } {
    const lock = this.lock!
    const { lease } = held
    const renewal = every(Math.max(1, Math.floor(this.leaseMs / 3)), () => {
      void this.guard
        .run('lock', held.key, () => lock.extend(lease, this.leaseMs))
        .then((kept) => {
          if (kept.ok && !kept.value) onLost()
        })
    })
    return { stop: () => renewal.cancel() }
  }

  /**
   * The fence for a write without a lease (set, delete's tombstone): `next`
   * where the fused Lock's one-trip write takes it itself (writeWithNextFence),
   * else one asked for first (fence()).
   */
  writeFence(key: string): Promise<Fence | 'next'> {
    return this.fused?.write !== undefined ? Promise.resolve('next') : this.fence(key)
  }

  /**
   * Fused: the next fence, the Store.set of `write` with it, and `notify`,
   * in one round trip, where `fence()` then `Store.set` take two. The entry
   * takes the fence used. An unreachable backend gives it this process's
   * own fence and leaves the write here, as a failed `fence()` would.
   */
  async writeWithNextFence(key: string, kind: 'set' | 'delete', write: LeaseWrite, now: number, notify: BusMessage | undefined): Promise<TierWrite> {
    const fused = this.fused!
    const stored = toStored(write.entry, write.encoded)
    const ttlMs = Math.max(1, write.keepUntil - now)
    const result = await this.guard.run('lock', key, () => fused.write!(this.keys.entry(key), stored, ttlMs, notify))
    if (!result.ok) {
      write.entry.fence = this.localFence('local').value
      return 'local-only'
    }
    write.entry.fence = result.value.fence
    this.observer.write(key, kind, result.value.written)
    return result.value.written ? 'written' : 'fenced-out'
  }

  /** Gives the lease back (waking the key's waiters), once; a no-op after a fused fill did. */
  release(held: HeldLease): void {
    if (held.released) return
    held.released = true
    const lock = this.lock!
    void this.guard.run('lock', held.key, () => lock.release(held.lease))
  }

  /**
   * Fused: writes the entry (when there is one), releases the lease, wakes
   * every waiter with the entry, and delivers `notify`, in one round trip.
   * An unreachable backend leaves the write in this process; the lease then
   * runs out on its own.
   */
  async fill(held: HeldLease, write: LeaseWrite | undefined, now: number, notify: BusMessage | undefined): Promise<TierWrite> {
    const fused = this.fused!
    held.released = true
    const key = held.key
    const stored = write === undefined ? undefined : { entry: toStored(write.entry, write.encoded), ttlMs: Math.max(1, write.keepUntil - now) }
    const result = await this.guard.run('lock', key, () => fused.fill(held.lease, stored, notify))
    if (!result.ok) {
      // The lease's own fleet fence, or (one taken at fill) this process's own, for the write kept here.
      if (write !== undefined && held.fence === 'next') write.entry.fence = this.localFence('local').value
      return 'local-only'
    }
    if (write === undefined) return 'written'
    if (held.fence === 'next' && result.value.fence !== undefined) write.entry.fence = result.value.fence
    this.observer.write(key, 'load', result.value.written)
    return result.value.written ? 'written' : 'fenced-out'
  }

  private granted(key: string, lease: Lease, signal: Cancel, current: TierRead | undefined, fenceAtFill = false): Acquired {
    const held = heldLease(key, lease, fenceAtFill)
    if (signal.aborted) {
      // Every caller left (or the hard timeout fired) while the Lock was answering: give it back now.
      this.release(held)
      throw signal.reason
    }
    return { kind: 'lease', held, current }
  }

  private releaseLate(key: string, lease: Lease | undefined): void {
    if (lease !== undefined) this.release(heldLease(key, lease, false))
  }

  private localFence(kind: Fence['kind']): Fence {
    return { kind, value: this.fences.next(this.clock.now()) }
  }
}

function heldLease(key: string, lease: Lease, fenceAtFill: boolean): HeldLease {
  return { key, lease, fence: fenceAtFill ? 'next' : { kind: 'fleet', value: lease.fence }, released: false }
}
