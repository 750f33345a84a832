import type { StoredEntry } from '@herd/core'
import { type RedisServer, startRedis } from '@herd/testing/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisCommandTimeoutError, RedisUnavailableError, redisBackend, redisBus, redisLock, redisStore } from '../src/index.js'
import { portFor } from '../src/port/index.js'
import { type Connected, LIBRARIES, connect, haveRedis, sentinel, uniquePrefix } from './clients.js'

const entry = (fence: number, value = `v${fence}`): StoredEntry => {
  const now = Date.now()
  return { value, fence, createdAt: now, freshUntil: now + 60_000, staleUntil: now + 60_000, errorUntil: now + 60_000, loadMs: 1 }
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not ${what} within 10 s`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

// A server of its own: these tests kill, pause, flush and demote it.
describe.skipIf(!haveRedis)('Redis failures are bounded errors, and fences survive data loss', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(async () => {
    server?.resume()
    await server?.stop()
  })

  for (const library of LIBRARIES) {
    describe(library, () => {
      let redis: Connected
      beforeAll(async () => {
        redis = await connect({ library, topology: 'single' }, { url: server.url, clusterUrls: [], sentinel })
      })
      const ready = () => until(() => portFor(redis.client, 'test').isReady(), 'ready again')

      it('a hung Redis (SIGSTOP): each command rejects with RedisCommandTimeoutError, and wait() resolves false', async () => {
        const prefix = uniquePrefix()
        const store = redisStore(redis.client, { prefix, commandTimeout: 200 })
        const lock = redisLock(redis.client, { prefix, commandTimeout: 200 })
        await store.set('h', entry(1), 60_000)
        server.pause()
        try {
          // These settle while Redis is still stopped: only our own deadline can end them.
          const results = await Promise.allSettled([store.get('h'), store.set('h', entry(2), 60_000), lock.acquire('h', 1_000)])
          for (const r of results) {
            expect(r.status).toBe('rejected')
            expect((r as PromiseRejectedResult).reason).toBeInstanceOf(RedisCommandTimeoutError)
          }
          expect(await lock.wait('h', 300)).toBe(false)
        } finally {
          server.resume()
        }
        // The late replies were dropped; the client answers again.
        expect((await store.get('h'))?.fence).toBeGreaterThanOrEqual(1)
        await lock.close?.()
      })

      it('READONLY (a demoted primary) is thrown to the caller', async () => {
        const store = redisStore(redis.client, { prefix: uniquePrefix() })
        await redis.raw(undefined, ['REPLICAOF', '127.0.0.1', '1']) // a primary that isn't there: writes refused
        try {
          await expect(store.set('r', entry(1), 60_000)).rejects.toThrow(/READONLY/)
          await expect(store.delete('r')).rejects.toThrow(/READONLY/)
        } finally {
          await redis.raw(undefined, ['REPLICAOF', 'NO', 'ONE'])
        }
        expect(await store.set('r', entry(1), 60_000)).toBe(true)
      })

      it('a killed Redis fails at once with RedisUnavailableError (no queueing behind the outage); after a restart the same adapters work', async () => {
        const prefix = uniquePrefix()
        const store = redisStore(redis.client, { prefix, commandTimeout: 60_000 })
        const lock = redisLock(redis.client, { prefix, commandTimeout: 60_000 })
        await server.kill()
        try {
          await until(() => !portFor(redis.client, 'test').isReady(), 'disconnected')
          // A queued command would stay pending until the restart below; these settle while Redis is down.
          const results = await Promise.allSettled([store.get('k'), lock.acquire('k', 1_000)])
          for (const r of results) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(RedisUnavailableError)
          expect(await lock.wait('k', 300)).toBe(false)
        } finally {
          await server.restart()
        }
        await ready()
        expect(await store.set('k', entry(1), 60_000)).toBe(true) // scripts reloaded after NOSCRIPT
        expect((await store.get('k'))?.fence).toBe(1)
        const lease = await lock.acquire('k', 1_000)
        expect(lease?.fence).toBeGreaterThan(1)
        await lock.close?.()
      })

      it("every adapter's onError hears the errors of the pub/sub connection they share", async () => {
        const prefix = uniquePrefix()
        const heard = { bus: 0, lock: 0 }
        const bus = redisBus(redis.client, { prefix, onError: () => heard.bus++ })
        const lock = redisLock(redis.client, { prefix, onError: () => heard.lock++ })
        const unsubscribe = await bus.subscribe(() => {})
        expect(await lock.wait('free', 5_000)).toBe(true) // the Lock now relies on the same connection
        await server.kill()
        try {
          await until(() => heard.bus > 0 && heard.lock > 0, 'heard by both')
        } finally {
          await server.restart()
        }
        await ready()
        await unsubscribe()
        await Promise.all([bus.close?.(), lock.close?.()])
      })

      it('a Bus subscriber is told when its subscription is back after Redis went away (onResubscribe), and hears messages again', async () => {
        const prefix = uniquePrefix()
        const bus = redisBus(redis.client, { prefix })
        const received: string[] = []
        let resubscribed = 0
        const subscribe = bus.subscribe as (
          listener: (m: { key: string }) => void,
          options?: { onResubscribe?: () => void },
        ) => Promise<() => Promise<void>>
        const unsubscribe = await subscribe((m) => received.push(m.key), { onResubscribe: () => resubscribed++ })
        expect(resubscribed).toBe(0)
        await server.restart() // killed, then back empty
        await until(() => resubscribed > 0, 'told of the resubscription')
        await ready()
        // The subscription really is back: a message published now arrives.
        const publisher = redisBus(redis.client, { prefix })
        await until(async () => {
          await publisher.publish({ kind: 'delete', key: 'after', origin: 'other' })
          return received.includes('after')
        }, 'the message after the restart received')
        await unsubscribe()
        await Promise.all([bus.close?.(), publisher.close?.()])
      })

      for (const loss of ['FLUSHALL', 'an empty restart'] as const) {
        it(`fences stay monotonic across ${loss}: a lease taken before it can't overwrite its successor's value`, async () => {
          const prefix = uniquePrefix()
          const store = redisStore(redis.client, { prefix })
          const { lock } = redisBackend(redis.client, { prefix })
          const before = (await lock.acquire('k', 30_000))!
          const fenceBefore = await lock.fence('other')
          if (loss === 'FLUSHALL') await redis.raw(undefined, ['FLUSHALL'])
          else {
            await server.restart()
            await ready()
          }
          // The old lease, its counter and the entry are gone: a successor takes the key and writes.
          const after = (await lock.fused!.acquire('k', 30_000)).lease!
          const filled = await lock.fused!.fill(after, { entry: entry(after.fence, 'successor'), ttlMs: 60_000 })
          expect(filled).toMatchObject({ written: true, released: true })
          // A key without an entry is leased as a marker: its fence is taken by the fill.
          expect(filled.fence ?? after.fence).toBeGreaterThan(before.fence)
          expect(await lock.fence('other')).toBeGreaterThan(fenceBefore)
          // The holder from before the loss finishes late: refused, both ways it can write.
          expect(await store.set('k', entry(before.fence, 'stale holder'), 60_000)).toBe(false)
          expect(await lock.fused!.fill(before, { entry: entry(before.fence, 'stale holder'), ttlMs: 60_000 })).toEqual({
            written: false,
            released: false,
          })
          expect((await store.get('k'))?.value).toBe('successor')
          await lock.close?.()
        })
      }
    })
  }
})
