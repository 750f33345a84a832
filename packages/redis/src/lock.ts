import { randomUUID } from 'node:crypto'
import { HerdArgumentError, type Lease, type Lock } from '@herd/core'
import { bounded } from './commands.js'
import { fusedLock, fusionOf } from './fused.js'
import { isMarker } from './marker.js'
import { type RedisLockOptions, ignore, positive, resolve } from './options.js'
import type { RedisClient } from './port/index.js'
import { ACQUIRE, EXTEND, FENCE, PROBE, RELEASE } from './scripts.js'
import { Subscriber } from './subscriber.js'
import { wakeHeader } from './wake-message.js'
import { Waiters } from './waiters.js'

export function leaseMs(ttlMs: number): string {
  if (!(ttlMs > 0 && ttlMs < Infinity)) throw new HerdArgumentError(`@herd/redis: lease ttlMs must be a finite number > 0; got ${String(ttlMs)}`)
  return String(Math.ceil(ttlMs))
}

/** A wait's timeoutMs, checked: a finite number >= 0. */
export function assertWaitMs(timeoutMs: number): void {
  if (!(typeof timeoutMs === 'number' && timeoutMs >= 0 && timeoutMs < Infinity)) {
    throw new HerdArgumentError(`@herd/redis: wait timeoutMs must be a finite number >= 0; got ${String(timeoutMs)}`)
  }
}

/**
 * One loader per key across every process. A lease is `SET NX PX` of a
 * random token plus the key's next fence, in one script call; release and
 * extend check the token; release announces itself on the key's wake
 * channel so waiters in every process move on within a round trip.
 *
 * With `fuse: { store, bus }` (what `redisBackend` passes) the Lock also
 * offers `fused`: acquire-or-read, and write + release + wake + notify, in
 * one script each (fused.ts).
 */
export function redisLock(client: RedisClient, options: RedisLockOptions = {}): Lock {
  const resolved = resolve(client, options, 'redisLock')
  const { commands, keys, port, sharded } = resolved
  const fenceTtl = String(positive(options.fenceTtl ?? '1d', 'fenceTtl'))
  const fallbackMs = positive(options.fallbackInterval ?? 1_000, 'fallbackInterval')
  const fusion = fusionOf(client, resolved, options)
  const pushLimit = options.wakePayloadLimit ?? 64 * 1024
  if (!(Number.isSafeInteger(pushLimit) && pushLimit >= 0)) {
    throw new HerdArgumentError(`@herd/redis: wakePayloadLimit must be a whole number of bytes >= 0; got ${String(pushLimit)}`)
  }
  const publishCommand = sharded ? 'SPUBLISH' : 'PUBLISH'
  // Opened lazily: a Lock nobody waits on never opens a pub/sub connection.
  let waiters: Waiters | undefined
  let subscriber: Subscriber | undefined
  let closed = false

  const lock: Lock & { fused?: Lock['fused']; inspect(key: string): Promise<{ held: boolean; expiresInMs?: number }> } = {
    async acquire(key, ttlMs) {
      const token = randomUUID()
      const fence = await commands.run(ACQUIRE, [keys.lock(key), keys.fence(key), keys.value(key)], [token, leaseMs(ttlMs), fenceTtl])
      return fence === null || fence === undefined ? undefined : { key, token, fence: Number(fence) }
    },

    async release(lease: Lease) {
      const reply = await commands.run(RELEASE, [leaseKey(lease)], [lease.token, keys.wake(lease.key), publishCommand, wakeHeader(lease.key)])
      const released = Number(reply) === 1
      if (released) waiters?.wake(lease.key)
      return released
    },

    async extend(lease, ttlMs) {
      return Number(await commands.run(EXTEND, [leaseKey(lease)], [lease.token, leaseMs(ttlMs)])) === 1
    },

    async fence(key) {
      return Number(await commands.run(FENCE, [keys.fence(key), keys.value(key)], [fenceTtl]))
    },

    /** For `herd.inspect()`: whether the lease is held right now, and for how much longer. */
    async inspect(key) {
      const [holder, pttl] = (await commands.run(PROBE, [keys.lock(key), keys.value(key)], [])) as [string, number]
      return holder === '' ? { held: false } : Number(pttl) >= 0 ? { held: true, expiresInMs: Number(pttl) } : { held: true }
    },

    /** Subscribes the wake channel before the first miss needs it. On a Cluster each slot has its own, subscribed on first use. */
    async ready() {
      if (closed) return false
      if (sharded) return true
      return bounded(openWaiters().listen(''), commands.timeoutMs, 'SUBSCRIBE').then(
        () => true,
        () => false,
      )
    },

    async wait(key, timeoutMs, signal) {
      assertWaitMs(timeoutMs)
      if (closed) return false
      return (await openWaiters().wait(key, timeoutMs, signal)).woken
    },

    async close() {
      if (closed) return
      closed = true
      waiters?.close()
      subscriber?.release(lock)
    },
  }

  /** Where a lease lives: the lock key, or the value key for a marker taken after a miss (marker.ts). */
  function leaseKey(lease: Lease): string {
    return isMarker(lease.token) ? keys.value(lease.key) : keys.lock(lease.key)
  }

  function openWaiters(): Waiters {
    if (waiters === undefined) {
      subscriber = Subscriber.for(port, lock, options.onError ?? ignore)
      waiters = new Waiters(commands, keys, subscriber, sharded, fallbackMs)
    }
    return waiters
  }

  if (fusion !== undefined) {
    lock.fused = fusedLock({
      commands,
      keys,
      sharded,
      publishCommand,
      fenceTtl,
      fusion,
      pushLimit,
      waiters: () => (closed ? undefined : openWaiters()),
      localWaiters: () => waiters,
    })
  }
  return lock
}
