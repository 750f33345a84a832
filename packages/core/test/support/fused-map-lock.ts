import type { FusedLock, Lock, Store } from '../../src/index.js'
import { MapLock } from './map-lock.js'

/**
 * A MapLock that fuses with one process's Store connection, for core's
 * tests of the fused path: `readOrAcquire` reads the Store and, when it has
 * nothing, acquires, in one call as a backend that can would. It counts its
 * calls like MapLock (`calls.acquire` counts the reads that tried to take
 * the lease). The real fused Lock is @herd/redis', proved by fusedLockSuite.
 */
export function fusedMapLock(store: Store, lock = new MapLock()): MapLock & Lock & { fused: FusedLock } {
  const fused: FusedLock = {
    store,
    async acquire(key, ttlMs) {
      const lease = await lock.acquire(key, ttlMs)
      return { lease, entry: await store.get(key) } as Awaited<ReturnType<FusedLock['acquire']>>
    },
    async fill(lease, write) {
      const written = write === undefined ? false : await store.set(lease.key, { ...write.entry, fence: lease.fence }, write.ttlMs)
      return { written, released: await lock.release(lease) }
    },
    async wait(key, timeoutMs, signal) {
      return { woken: await lock.wait(key, timeoutMs, signal) }
    },
    async readOrAcquire(key, ttlMs) {
      const entry = await store.get(key)
      if (entry !== undefined) return { entry }
      const lease = await lock.acquire(key, ttlMs)
      return { entry: undefined, acquired: lease === undefined ? { lease: undefined, entry: undefined } : { lease, entry: undefined } }
    },
  }
  return Object.assign(lock, { fused })
}
