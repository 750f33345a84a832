import { randomUUID } from 'node:crypto'
import { HerdArgumentError, type Lease, type Lock } from '@herd/core'
import type { RedisClient } from './commands.js'
import { type RedisLockOptions, ignore, positive, resolve } from './options.js'
import { ACQUIRE, EXTEND, FENCE, RELEASE } from './scripts.js'
import { Subscriber } from './subscriber.js'
import { Waiters } from './waiters.js'

function leaseMs(ttlMs: number): string {
  if (!(ttlMs > 0 && ttlMs < Infinity)) throw new HerdArgumentError(`@herd/redis: lease ttlMs must be a finite number > 0; got ${String(ttlMs)}`)
  return String(Math.ceil(ttlMs))
}

/**
 * One loader per key across every process. A lease is `SET NX PX` of a
 * random token plus the key's next fence, in one script call; release and
 * extend check the token; release publishes on the key's wake channel so
 * waiters in every process read the new value within a round trip.
 */
export function redisLock(client: RedisClient, options: RedisLockOptions = {}): Lock {
  const { commands, keys } = resolve(client, options, 'redisLock')
  const fenceTtl = String(positive(options.fenceTtl ?? '1d', 'fenceTtl'))
  const fallbackMs = positive(options.fallbackInterval ?? 1_000, 'fallbackInterval')
  // Opened lazily: a Lock nobody waits on never opens a second connection.
  let waiters: Waiters | undefined
  let subscriber: Subscriber | undefined
  let closed = false

  return {
    async acquire(key, ttlMs) {
      const token = randomUUID()
      const fence = await commands.run(ACQUIRE, [keys.lock(key), keys.fence(key), keys.value(key)], [token, leaseMs(ttlMs), fenceTtl])
      return fence === null || fence === undefined ? undefined : { key, token, fence: Number(fence) }
    },

    async release(lease: Lease) {
      const released = Number(await commands.run(RELEASE, [keys.lock(lease.key)], [lease.token, keys.wake(lease.key)])) === 1
      if (released) waiters?.wake(lease.key)
      return released
    },

    async extend(lease, ttlMs) {
      return Number(await commands.run(EXTEND, [keys.lock(lease.key)], [lease.token, leaseMs(ttlMs)])) === 1
    },

    async fence(key) {
      return Number(await commands.run(FENCE, [keys.fence(key), keys.value(key)], [fenceTtl]))
    },

    wait(key, timeoutMs, signal) {
      if (closed) return Promise.resolve(false)
      if (waiters === undefined) {
        subscriber = Subscriber.for(client, options.onError ?? ignore)
        waiters = new Waiters(commands, keys, subscriber, fallbackMs)
      }
      return waiters.wait(key, timeoutMs, signal)
    },

    async close() {
      if (closed) return
      closed = true
      waiters?.close()
      subscriber?.release()
    },
  }
}
