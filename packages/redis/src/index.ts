import type { Bus, Lock, Store } from '@herd/core'
import { redisBus } from './bus.js'
import { redisLock } from './lock.js'
import type { RedisLockOptions } from './options.js'
import type { RedisClient } from './port/index.js'
import { redisStore } from './store.js'

export { redisStore } from './store.js'
export { redisLock } from './lock.js'
export { redisBus } from './bus.js'
export { RedisCommandTimeoutError, RedisUnavailableError } from './errors.js'
export type { RedisClient, NodeRedisClient, IoRedisClient } from './port/index.js'
export type { RedisOptions, RedisLockOptions, RedisBusOptions } from './options.js'

/**
 * Store, Lock and Bus on one client with one prefix, the Lock fused with
 * the other two (a cold miss in three round trips, waiters woken with the
 * value): `createHerd({ ...redisBackend(client), ttl: '5m' })`.
 */
export function redisBackend(client: RedisClient, options: Omit<RedisLockOptions, 'fuse'> = {}): { store: Store; lock: Lock; bus: Bus } {
  const store = redisStore(client, options)
  const bus = redisBus(client, options)
  return { store, lock: redisLock(client, { ...options, fuse: { store, bus } }), bus }
}
