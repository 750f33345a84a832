/** Proof of holding a key's lock. */
export interface Lease {
  key: string
  /** Random owner token: only the holder can release or extend. */
  token: string
  /** Monotonic per key: every lease and every fence() is higher than the last. */
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
  /** Releases what the Lock itself opened (never a client the user passed in). */
  close?(): Promise<void>
}
