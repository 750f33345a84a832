// Type-level test (checked by `pnpm typecheck`, never run): every client a
// user may pass is a RedisClient, as the README shows it.
import { Cluster as IoCluster, Redis as IoRedis } from 'ioredis'
import { createClient, createCluster, createSentinel } from 'redis'
import * as redis6 from 'redis6'
import { type RedisClient, redisBackend, redisBus, redisLock, redisStore } from '../src/index.js'

declare const urls: Array<{ url: string }>

export const accepted: RedisClient[] = [
  createClient(),
  createClient({ url: 'redis://localhost', RESP: 3 }),
  createCluster({ rootNodes: urls }),
  createSentinel({ name: 'm', sentinelRootNodes: [{ host: 'localhost', port: 26379 }] }),
  redis6.createClient(),
  redis6.createCluster({ rootNodes: urls }),
  redis6.createSentinel({ name: 'm', sentinelRootNodes: [{ host: 'localhost', port: 26379 }] }),
  new IoRedis(),
  new IoRedis({ sentinels: [{ host: 'localhost', port: 26379 }], name: 'm' }),
  new IoCluster([{ host: 'localhost', port: 7000 }]),
]

export function readmeSamples(): void {
  redisBackend(createCluster({ rootNodes: urls }), { prefix: 'app:' })
  redisBackend(new IoCluster([{ host: 'localhost', port: 7000 }]))
  const client = createClient()
  redisStore(client)
  redisLock(client)
  redisBus(client)
}
