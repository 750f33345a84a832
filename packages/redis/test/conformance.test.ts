import { busSuite, fusedLockSuite, lockSuite, storeSuite } from '@herd/testing'
import { describe } from 'vitest'
import type { Lock } from '@herd/core'
import { type RedisClient, redisBackend, redisBus, redisLock, redisStore } from '../src/index.js'
import { type Connected, TARGETS, type Target, connect, haveRedis, uniquePrefix } from './clients.js'

/**
 * Each adapter gets a client of its own, as separate processes would have;
 * after each test the suite closes the adapter, then its client.
 */
function adapters<A extends { close?(): Promise<void> }>(target: Target, make: (client: RedisClient) => A) {
  const clients = new WeakMap<A, Connected>()
  return {
    factory: async () => {
      const connected = await connect(target)
      const adapter = make(connected.client)
      clients.set(adapter, connected)
      return adapter
    },
    options: {
      teardown: async (adapter: A) => {
        await adapter.close?.()
        await clients.get(adapter)?.close()
      },
    },
  }
}

// The same conformance suites @herd/memory passes, on every client library and topology:
// a single Redis, a 3-master Cluster and a master + replica behind three Sentinels.
describe.skipIf(!haveRedis)('@herd/redis conformance', () => {
  for (const target of TARGETS) {
    describe(target.label, () => {
      const prefix = uniquePrefix()
      const store = adapters(target, (client) => redisStore(client, { prefix }))
      const lock = adapters(target, (client) => redisLock(client, { prefix }))
      const bus = adapters(target, (client) => redisBus(client, { prefix }))
      // The fused Lock closes its Store and Bus with it, as a herd closes all three.
      const fused = adapters<Lock>(target, (client) => {
        const backend = redisBackend(client, { prefix })
        return { ...backend.lock, close: async () => void (await Promise.all([backend.lock.close?.(), backend.bus.close?.(), backend.store.close?.()])) }
      })
      storeSuite(`redisStore (${target.label})`, store.factory, store.options)
      lockSuite(`redisLock (${target.label})`, lock.factory, lock.options)
      busSuite(`redisBus (${target.label})`, bus.factory, bus.options)
      fusedLockSuite(`redisBackend's lock (${target.label})`, fused.factory, { ...fused.options, pushesEntries: true })
    })
  }
})
