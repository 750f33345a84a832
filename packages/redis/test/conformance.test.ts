import { busSuite, lockSuite, storeSuite } from '@herd/testing'
import { describe } from 'vitest'
import { redisBus, redisLock, redisStore } from '../src/index.js'
import { TOPOLOGIES, connect, haveRedis, uniquePrefix } from './clients.js'

// The same conformance suites @herd/memory passes, against a real Redis and a real 3-master Cluster.
describe.skipIf(!haveRedis)('@herd/redis conformance', () => {
  for (const topology of TOPOLOGIES) {
    describe(topology, () => {
      const prefix = uniquePrefix()
      storeSuite(`redisStore (${topology})`, async () => redisStore(await connect(topology), { prefix }))
      lockSuite(`redisLock (${topology})`, async () => redisLock(await connect(topology), { prefix }))
      busSuite(`redisBus (${topology})`, async () => redisBus(await connect(topology), { prefix }))
    })
  }
})
