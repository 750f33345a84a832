import type { StoredEntry } from '@herd/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { type RedisClient, redisLock, redisStore } from '../src/index.js'
import { isCluster } from '../src/commands.js'
import { keyspace } from '../src/keys.js'
import { SET_IF_NEWER } from '../src/scripts.js'
import { TOPOLOGIES, connect, haveRedis, uniquePrefix } from './clients.js'

function entry(fence: number, value = `v${fence}`): StoredEntry {
  const now = Date.now()
  return { value, fence, createdAt: now, freshUntil: now + 60_000, staleUntil: now + 90_000, errorUntil: now + 120_000, loadMs: 3 }
}

/** Runs a raw command on the node that owns `key` (any node on a single Redis). */
function raw(client: RedisClient, key: string, args: string[]): Promise<unknown> {
  return isCluster(client) ? client.sendCommand(key, false, args) : client.sendCommand(args)
}

/** SCRIPT FLUSH everywhere, as after a restart or failover. */
async function flushScripts(client: RedisClient): Promise<void> {
  if (isCluster(client)) {
    await Promise.all(client.masters.map(async (m) => (await client.nodeClient(m)).sendCommand(['SCRIPT', 'FLUSH'])))
  } else {
    await client.sendCommand(['SCRIPT', 'FLUSH'])
  }
}

describe.skipIf(!haveRedis)('Lua paths', () => {
  for (const topology of TOPOLOGIES) {
    describe(topology, () => {
      let client: RedisClient
      const prefix = uniquePrefix()
      const keys = keyspace(prefix)
      beforeAll(async () => {
        client = await connect(topology)
      })

      it('a fenced set is refused below the stored fence; the Redis TTL is the ttlMs given', async () => {
        const store = redisStore(client, { prefix })
        expect(await store.set('f', entry(5), 60_000)).toBe(true)
        expect(await store.set('f', entry(4), 1_000)).toBe(false)
        expect((await store.get('f'))?.fence).toBe(5)
        const pttl = Number(await raw(client, keys.value('f'), ['PTTL', keys.value('f')]))
        expect(pttl).toBeGreaterThan(50_000)
        expect(pttl).toBeLessThanOrEqual(60_000)
        expect(await store.set('f', entry(9), 1_000)).toBe(true)
        expect((await store.get('f'))?.fence).toBe(9)
      })

      it('the entry is one string whose header the scripts read: mark-stale keeps value, fence and TTL', async () => {
        const store = redisStore(client, { prefix })
        const e = entry(12, 'a,b,"c"\n{}')
        await store.set('m', e, 30_000)
        const stored = String(await raw(client, keys.value('m'), ['GET', keys.value('m')]))
        expect(stored.startsWith(`12,${e.createdAt},${e.freshUntil},`)).toBe(true)
        const at = e.createdAt + 10
        expect(await store.expire('m', at)).toBe(true)
        expect(await store.get('m')).toEqual({ ...e, freshUntil: at })
        // A later `at` never makes an entry fresher.
        expect(await store.expire('m', at + 5_000)).toBe(true)
        expect((await store.get('m'))?.freshUntil).toBe(at)
        expect(Number(await raw(client, keys.value('m'), ['PTTL', keys.value('m')]))).toBeGreaterThan(20_000)
        expect(await store.expire('missing', at)).toBe(false)
      })

      it('release and extend only by the owner; release deletes the lease', async () => {
        const lock = redisLock(client, { prefix })
        const lease = (await lock.acquire('o', 5_000))!
        expect(lease).toBeDefined()
        const stranger = { ...lease, token: 'not-the-owner' }
        expect(await lock.extend(stranger, 60_000)).toBe(false)
        expect(await lock.release(stranger)).toBe(false)
        expect(await lock.acquire('o', 5_000)).toBeUndefined()
        expect(await lock.extend(lease, 60_000)).toBe(true)
        expect(Number(await raw(client, keys.lock('o'), ['PTTL', keys.lock('o')]))).toBeGreaterThan(50_000)
        expect(await lock.release(lease)).toBe(true)
        expect(await raw(client, keys.lock('o'), ['EXISTS', keys.lock('o')])).toBe(0)
        expect(await lock.release(lease)).toBe(false)
        await lock.close?.()
      })

      it('fences stay above the stored entry even when the fence counter is gone', async () => {
        const store = redisStore(client, { prefix })
        const lock = redisLock(client, { prefix })
        expect(await store.set('c', entry(41), 60_000)).toBe(true)
        await raw(client, keys.fence('c'), ['DEL', keys.fence('c')])
        const lease = (await lock.acquire('c', 1_000))!
        expect(lease.fence).toBe(42)
        expect(await lock.fence('c')).toBe(43)
        const pttl = Number(await raw(client, keys.fence('c'), ['PTTL', keys.fence('c')]))
        expect(pttl).toBeGreaterThan(86_000_000) // fenceTtl '1d', pushed on every use
        await lock.release(lease)
      })

      it('after SCRIPT FLUSH the scripts are sent again (NOSCRIPT → EVAL) and work', async () => {
        const store = redisStore(client, { prefix })
        const lock = redisLock(client, { prefix })
        await store.set('n', entry(1), 60_000)
        await flushScripts(client)
        expect(await store.set('n', entry(2), 60_000)).toBe(true)
        await flushScripts(client)
        const lease = (await lock.acquire('n', 1_000))!
        expect(lease.fence).toBeGreaterThan(2)
        await flushScripts(client)
        expect(await lock.release(lease)).toBe(true)
        await flushScripts(client)
        expect(await store.expire('n', Date.now())).toBe(true)
        expect(await store.set('n', entry(1), 60_000)).toBe(false)
        // EVAL cached the script again on the key's node: later calls run by SHA.
        expect(await raw(client, keys.value('n'), ['SCRIPT', 'EXISTS', SET_IF_NEWER.sha])).toEqual([1])
      })

      it('keys with braces and percent signs keep all their Redis keys in one slot, and stay distinct', async () => {
        const store = redisStore(client, { prefix })
        const lock = redisLock(client, { prefix })
        const tricky = ['{a}b', 'a{b}', '{}', '}{', '{a', 'a}', '%7B', '{', '', '{{x}}', 'user:{42}:profile']
        for (const [i, key] of tricky.entries()) {
          if (isCluster(client)) {
            const names = [keys.value(key), keys.lock(key), keys.fence(key)]
            const slots = await Promise.all(names.map((n) => raw(client, n, ['CLUSTER', 'KEYSLOT', n])))
            expect(new Set(slots).size, key).toBe(1)
          }
          const lease = (await lock.acquire(key, 2_000))!
          expect(lease, key).toBeDefined()
          expect(await store.set(key, entry(lease.fence, `value ${i}`), 60_000)).toBe(true)
          expect(await lock.release(lease)).toBe(true)
        }
        for (const [i, key] of tricky.entries()) expect((await store.get(key))?.value, key).toBe(`value ${i}`)
        expect(await store.getMany!(tricky)).toHaveLength(tricky.length)
        expect((await store.getMany!(tricky)).map((e) => e?.value)).toEqual(tricky.map((_, i) => `value ${i}`))
        await lock.close?.()
      })
    })
  }
})
