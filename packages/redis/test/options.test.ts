import { HerdArgumentError } from '@herd/core'
import { memoryBus, memoryStore } from '@herd/memory'
import { Redis as IoRedis } from 'ioredis'
import { createClient, createCluster } from 'redis'
import { afterAll, describe, expect, it } from 'vitest'
import { redisBackend, redisBus, redisLock, redisStore } from '../src/index.js'
import { portFor } from '../src/port/index.js'

// Never connected: bad input fails at the call, before anything reaches Redis.
const client = createClient()
const other = createClient()
const io = new IoRedis({ lazyConnect: true })
afterAll(() => io.disconnect())

describe('bad input is a HerdArgumentError at the call that made it', () => {
  it('not a client', () => {
    for (const notClient of [null, undefined, 'redis://localhost', {}, { get() {} }]) {
      expect(() => redisStore(notClient as never)).toThrow(HerdArgumentError)
    }
    expect(() => redisLock({} as never)).toThrow(/node-redis client .* or an ioredis Redis or Cluster/)
  })

  it('options', () => {
    expect(() => redisStore(client, null as never)).toThrow(HerdArgumentError)
    expect(() => redisStore(client, { prefix: 'a{b}' })).toThrow(/braces/)
    expect(() => redisStore(client, { commandTimeout: 0 })).toThrow(/commandTimeout/)
    expect(() => redisBus(client, { shardedPubSub: 'yes' as never })).toThrow(/shardedPubSub/)
    expect(() => redisLock(client, { wakePayloadLimit: -1 })).toThrow(/wakePayloadLimit/)
    expect(() => redisLock(client, { wakePayloadLimit: 1.5 })).toThrow(/wakePayloadLimit/)
    expect(() => redisLock(client, { fallbackInterval: 0 })).toThrow(/fallbackInterval/)
  })

  it('fuse: only a Store and Bus of @herd/redis, on the same client, prefix and pub/sub mode', () => {
    expect(() => redisLock(client, { fuse: { store: memoryStore() } })).toThrow(/fuse.store must come from @herd\/redis' redisStore/)
    expect(() => redisLock(client, { fuse: { store: redisStore(client), bus: memoryBus() } })).toThrow(/fuse.bus must come from @herd\/redis' redisBus/)
    expect(() => redisLock(client, { fuse: { store: redisStore(other) } })).toThrow(/same prefix/)
    expect(() => redisLock(client, { prefix: 'a:', fuse: { store: redisStore(client, { prefix: 'b:' }) } })).toThrow(/same prefix/)
    const cluster = createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:1' }] })
    expect(() => redisLock(cluster, { fuse: { store: redisStore(cluster, { shardedPubSub: false }) } })).toThrow(/shardedPubSub/)
    expect(redisLock(client).fused).toBeUndefined()
  })

  it('redisBackend fuses its Lock with its own Store and Bus', () => {
    const backend = redisBackend(client, { prefix: 'x:' })
    expect(backend.lock.fused?.store).toBe(backend.store)
    expect(backend.lock.fused?.bus).toBe(backend.bus)
  })

  it('tells the libraries and topologies apart', () => {
    expect(
      [portFor(client, 't'), portFor(createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:1' }] }), 't'), portFor(io, 't')].map(
        (p) => `${p.library} ${p.topology}`,
      ),
    ).toEqual(['node-redis standalone', 'node-redis cluster', 'ioredis standalone'])
  })
})
