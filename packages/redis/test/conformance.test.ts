import { busSuite, lockSuite, storeSuite } from '@herd/testing'
import { describe } from 'vitest'
import { type RedisClient, redisBus, redisLock, redisStore } from '../src/index.js'
import { TOPOLOGIES, type Topology, connect, haveRedis, uniquePrefix } from './clients.js'

/**
 * Each adapter gets a client of its own, as separate processes would have;
 * after each test the suite closes the adapter, then its client.
 */
function adapters<A extends { close?(): Promise<void> }>(topology: Topology, make: (client: RedisClient) => A) {
  const clients = new WeakMap<A, RedisClient>()
  return {
    factory: async () => {
      const client = await connect(topology)
      const adapter = make(client)
      clients.set(adapter, client)
      return adapter
    },
    options: {
      teardown: async (adapter: A) => {
        await adapter.close?.()
        await clients.get(adapter)?.destroy()
      },
    },
  }
}

// The same conformance suites @herd/memory passes, against a real Redis and a real 3-master Cluster.
describe.skipIf(!haveRedis)('@herd/redis conformance', () => {
  for (const topology of TOPOLOGIES) {
    describe(topology, () => {
      const prefix = uniquePrefix()
      const store = adapters(topology, (client) => redisStore(client, { prefix }))
      const lock = adapters(topology, (client) => redisLock(client, { prefix }))
      const bus = adapters(topology, (client) => redisBus(client, { prefix }))
      storeSuite(`redisStore (${topology})`, store.factory, store.options)
      lockSuite(`redisLock (${topology})`, lock.factory, lock.options)
      busSuite(`redisBus (${topology})`, bus.factory, bus.options)
    })
  }
})
