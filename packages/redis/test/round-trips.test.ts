import { createHerd } from '@herd/core'
import { RedisMonitor } from '@herd/testing/redis-monitor'
import { type RedisServer, startRedis } from '@herd/testing/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisBackend } from '../src/index.js'
import { type Connected, LIBRARIES, connect, haveRedis, uniquePrefix } from './clients.js'

/**
 * The commands about `subject` (a key's hash tag) that clients sent since the last call, in order: round trips.
 * Only lines naming `prefix` are kept (the herd also reads its tag records now and then, which is not the
 * operation measured); the barrier is an ECHO on the same client, so it follows every command counted.
 */
async function sent(monitor: RedisMonitor, redis: Connected, subject: string): Promise<string[]> {
  const commands = await monitor.take(echoOn(redis))
  return commands.filter((c) => c.source === 'client' && c.line.includes(subject)).map((c) => c.name)
}

/** The barrier: an ECHO of the marker on the client whose commands are counted. */
function echoOn(redis: Connected): (marker: string) => Promise<unknown> {
  return (marker) => redis.raw(undefined, ['ECHO', marker])
}

describe.skipIf(!haveRedis)('round trips of each operation (commands clients send, from MONITOR)', () => {
  // A server of this file's own: another file's SCRIPT FLUSH or restart would add NOSCRIPT retries to the counts.
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(() => server?.stop())

  for (const library of LIBRARIES) {
    describe(library, () => {
      let redis: Connected
      let monitor: RedisMonitor
      const prefix = uniquePrefix()
      beforeAll(async () => {
        redis = await connect({ library, topology: 'single' }, { url: server.url, clusterUrls: [], sentinel: { name: '', nodes: [] } })
        monitor = await RedisMonitor.open(server.url, { filter: (line) => line.includes(prefix) })
      })
      afterAll(() => monitor.close())

      it('while reads mostly miss (a fresh herd) a miss is 2 (SET NX GET, fill) and a hit 1 (the same SET NX GET, which leaves the entry as it was); once they mostly hit, a hit is 1 GET and a miss 3 (GET, SET NX GET, fill); a set or a delete 1 (fence, write and Bus message in one script); a miss over a tombstone 3 (read, acquire script, fill)', async () => {
        // Tag records are read again once older than the local tier's ttl: an hour here, so none is due during the test.
        const herd = createHerd({ ...redisBackend(redis.client, { prefix }), local: { ttl: '1h' }, ttl: '1h' })
        const storeOnly = { local: false } as const
        try {
          // Subscriptions, the first clock reading and each script's first run (EVAL after NOSCRIPT), outside the counts.
          await herd.fetch('warm', async () => 0, storeOnly)
          await herd.set('warm', 1)
          await herd.delete('warm')
          await herd.fetch('warm', async () => 2, storeOnly)
          await sent(monitor, redis, '{cold}')

          // The miss, then at once a hit: the hit reads the Store, not the miss's finished flight.
          await herd.fetch('cold', async () => ({ a: 1 }), storeOnly)
          expect(await sent(monitor, redis, '{cold}')).toEqual(['set', 'evalsha'])
          const stored = async () => ({
            raw: await redis.raw(undefined, ['GET', `${prefix}{cold}:v`]),
            ttl: Number(await redis.raw(undefined, ['PTTL', `${prefix}{cold}:v`])),
          })
          const before = await stored()
          await sent(monitor, redis, '{cold}')
          expect(await herd.fetchEntry('cold', async () => ({ a: 2 }), storeOnly)).toMatchObject({ value: { a: 1 }, status: 'hit' })
          expect(await sent(monitor, redis, '{cold}')).toEqual(['set'])
          // The hit's SET NX found the entry and left it: the same bytes, and the hour's expiry, not a lease's.
          const after = await stored()
          expect(after.raw).toBe(before.raw)
          expect(after.ttl).toBeLessThanOrEqual(before.ttl)
          expect(after.ttl).toBeGreaterThan(before.ttl - 60_000)

          // Eight hits in a row: reads now mostly hit, and a hit is a plain GET.
          for (let i = 0; i < 8; i++) expect(await herd.fetch('cold', async () => ({ a: 2 }), storeOnly)).toEqual({ a: 1 })
          await sent(monitor, redis, '{cold}')
          expect(await herd.fetch('cold', async () => ({ a: 2 }), storeOnly)).toEqual({ a: 1 })
          expect(await sent(monitor, redis, '{cold}')).toEqual(['get'])
          // So a miss now reads first, then takes the lease.
          expect(await herd.fetch('later', async () => ({ b: 1 }), storeOnly)).toEqual({ b: 1 })
          expect(await sent(monitor, redis, '{later}')).toEqual(['get', 'set', 'evalsha'])

          await herd.set('cold', { a: 3 })
          expect(await sent(monitor, redis, '{cold}')).toEqual(['evalsha'])
          expect(await herd.fetch('cold', async () => ({ a: 4 }), storeOnly)).toEqual({ a: 3 })
          await sent(monitor, redis, '{cold}')

          await herd.delete('cold')
          expect(await sent(monitor, redis, '{cold}')).toEqual(['evalsha'])
          await sent(monitor, redis, '{cold}')
          // The Store read found the tombstone, so the lease is the scripted one (SET NX would find the tombstone there).
          expect(await herd.fetch('cold', async () => ({ a: 5 }), storeOnly)).toEqual({ a: 5 })
          expect(await sent(monitor, redis, '{cold}')).toEqual(['get', 'evalsha', 'evalsha'])
        } finally {
          await herd.close()
        }
      })

      it("after herd.ready() the first miss sends no SUBSCRIBE and the first hit no MGET (one command each): ready() subscribed the Lock's wake channel with the Bus's, and read the namespace's tag record", async () => {
        const herd = createHerd({ ...redisBackend(redis.client, { prefix: `${prefix}ready:` }), local: false, ttl: '1h' })
        try {
          await expect(herd.ready()).resolves.toBe(true)
          const subscribed = await monitor.take(echoOn(redis))
          expect(
            subscribed
              .filter((c) => c.name === 'subscribe')
              .map((c) => c.line.split(' ').at(-1))
              .sort(),
          ).toEqual([`"${prefix}ready:bus"`, `"${prefix}ready:wake"`])
          // A fresh herd expects misses: its read takes the lease as it reads (SET NX GET), then the fill.
          expect(await herd.fetch('first', async () => 1)).toBe(1)
          const all = await monitor.take(echoOn(redis))
          expect(all.filter((c) => c.source === 'client').map((c) => c.name)).toEqual(['set', 'evalsha'])
          expect(await herd.fetch('first', async () => 2)).toBe(1)
          const hit = await monitor.take(echoOn(redis))
          expect(hit.filter((c) => c.source === 'client').map((c) => c.name)).toEqual(['set'])
        } finally {
          await herd.close()
        }
      })

      it('fetchMany of cold keys: one MGET, then a SET NX GET and a fill per key', async () => {
        const herd = createHerd({ ...redisBackend(redis.client, { prefix }), local: { ttl: '1h' }, ttl: '1h' })
        const storeOnly = { local: false } as const
        const load = async (ids: readonly string[]) => ids.map((id) => ({ id }))
        try {
          await herd.fetchMany(['warm-1', 'warm-2'], load, storeOnly)
          await sent(monitor, redis, '{batch')
          expect(await herd.fetchMany(['batch-1', 'batch-2', 'batch-3'], load, storeOnly)).toEqual([
            { id: 'batch-1' },
            { id: 'batch-2' },
            { id: 'batch-3' },
          ])
          const commands = await sent(monitor, redis, '{batch')
          expect(commands.sort()).toEqual(['evalsha', 'evalsha', 'evalsha', 'mget', 'set', 'set', 'set'])
        } finally {
          await herd.close()
        }
      })
    })
  }
})
