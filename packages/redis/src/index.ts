import type { Bus, Lock, Store } from '@herd/core'
import { redisBus } from './bus.js'
import type { RedisClient } from './commands.js'
import { redisLock } from './lock.js'
import type { RedisLockOptions } from './options.js'
import { redisStore } from './store.js'

export { redisStore } from './store.js'
export { redisLock } from './lock.js'
export { redisBus } from './bus.js'
export { RedisCommandTimeoutError, RedisUnavailableError } from './errors.js'
export type { RedisClient } from './commands.js'
export type { RedisOptions, RedisLockOptions, RedisBusOptions } from './options.js'

/** Store, Lock and Bus on one client with one prefix: `createHerd({ ...redisBackend(client), ttl: '5m' })`. */
export function redisBackend(client: RedisClient, options: RedisLockOptions = {}): { store: Store; lock: Lock; bus: Bus } {
  return { store: redisStore(client, options), lock: redisLock(client, options), bus: redisBus(client, options) }
}
