import type { StoredEntry } from '@herd/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { redisBackend, redisLock, redisStore } from '../src/index.js'
import { keyspace } from '../src/keys.js'
import { FILL } from '../src/scripts.js'
import { type Connected, TARGETS, connect, haveRedis, uniquePrefix } from './clients.js'

function entry(fence: number, value = `v${fence}`): StoredEntry {
  const now = Date.now()
  return { value, fence, createdAt: now, freshUntil: now + 60_000, staleUntil: now + 90_000, errorUntil: now + 120_000, loadMs: 3 }
}

describe.skipIf(!haveRedis)('Lua paths', () => {
  for (const target of TARGETS) {
    describe(target.label, () => {
      let redis: Connected
      const prefix = uniquePrefix()
      const keys = keyspace(prefix, target.topology === 'cluster')
      beforeAll(async () => {
        redis = await connect(target)
      })

      it('a fenced set is refused below the stored fence; the Redis TTL is the ttlMs given', async () => {
        const store = redisStore(redis.client, { prefix })
        expect(await store.set('f', entry(5), 60_000)).toBe(true)
        expect(await store.set('f', entry(4), 1_000)).toBe(false)
        expect((await store.get('f'))?.fence).toBe(5)
        const pttl = Number(await redis.raw(keys.value('f'), ['PTTL', keys.value('f')]))
        expect(pttl).toBeGreaterThan(50_000)
        expect(pttl).toBeLessThanOrEqual(60_000)
        expect(await store.set('f', entry(9), 1_000)).toBe(true)
        expect((await store.get('f'))?.fence).toBe(9)
      })

      it('the entry is one string whose header the scripts read: mark-stale keeps value, fence and TTL', async () => {
        const store = redisStore(redis.client, { prefix })
        const e = entry(12, 'a,b,"c"\n{}')
        await store.set('m', e, 30_000)
        const stored = String(await redis.raw(keys.value('m'), ['GET', keys.value('m')]))
        expect(stored.startsWith(`12,${e.createdAt},${e.freshUntil},`)).toBe(true)
        const at = e.createdAt + 10
        expect(await store.expire('m', at)).toBe(true)
        expect(await store.get('m')).toEqual({ ...e, freshUntil: at })
        // A later `at` never makes an entry fresher.
        expect(await store.expire('m', at + 5_000)).toBe(true)
        expect((await store.get('m'))?.freshUntil).toBe(at)
        expect(Number(await redis.raw(keys.value('m'), ['PTTL', keys.value('m')]))).toBeGreaterThan(20_000)
        expect(await store.expire('missing', at)).toBe(false)
      })

      it("expire with a fence raises the entry's fence (never lowers it): a load that began before the expire is refused after it", async () => {
        const store = redisStore(redis.client, { prefix })
        const e = entry(5, 'loaded, 5')
        await store.set('xf', e, 30_000)
        const at = e.createdAt + 1
        expect(await (store.expire as (k: string, at: number, fence?: number) => Promise<boolean>)('xf', at, 9)).toBe(true)
        expect(await store.get('xf')).toEqual({ ...e, fence: 9, freshUntil: at })
        expect(await store.set('xf', entry(7), 30_000)).toBe(false) // the load that started before the expire
        expect(await (store.expire as (k: string, at: number, fence?: number) => Promise<boolean>)('xf', at + 10, 3)).toBe(true)
        expect(await store.get('xf')).toEqual({ ...e, fence: 9, freshUntil: at })
        expect(Number(await redis.raw(keys.value('xf'), ['PTTL', keys.value('xf')]))).toBeGreaterThan(20_000)
        expect(await store.set('xf', entry(10), 30_000)).toBe(true)
      })

      it("time() is Redis' clock in epoch ms; inspect() tells whether a lease is held and for how long", async () => {
        const store = redisStore(redis.client, { prefix }) as ReturnType<typeof redisStore> & { time(): Promise<number> }
        // Between two readings of Redis' TIME (whole seconds), however long the calls took on a loaded machine.
        const [before] = (await redis.raw(undefined, ['TIME'])) as [string, string]
        const now = await store.time()
        const [after] = (await redis.raw(undefined, ['TIME'])) as [string, string]
        expect(Number.isSafeInteger(now)).toBe(true)
        expect(Math.floor(now / 1_000)).toBeGreaterThanOrEqual(Number(before))
        expect(Math.floor(now / 1_000)).toBeLessThanOrEqual(Number(after))
        const lock = redisLock(redis.client, { prefix }) as ReturnType<typeof redisLock> & {
          inspect(key: string): Promise<{ held: boolean; expiresInMs?: number }>
        }
        expect(await lock.inspect('i')).toEqual({ held: false })
        const lease = (await lock.acquire('i', 30_000))!
        const held = await lock.inspect('i')
        expect(held.held).toBe(true)
        expect(held.expiresInMs).toBeGreaterThan(0)
        expect(held.expiresInMs).toBeLessThanOrEqual(30_000)
        await lock.release(lease)
        expect(await lock.inspect('i')).toEqual({ held: false })
      })

      it('release and extend only by the owner; release deletes the lease, waited on or not', async () => {
        const lock = redisLock(redis.client, { prefix })
        const { lock: other } = redisBackend(redis.client, { prefix })
        const lease = (await lock.acquire('o', 5_000))!
        expect(lease).toBeDefined()
        const stranger = { ...lease, token: 'not-the-owner' }
        expect(await lock.extend(stranger, 60_000)).toBe(false)
        expect(await lock.release(stranger)).toBe(false)
        expect(await lock.acquire('o', 5_000)).toBeUndefined()
        // A fused acquire that finds it busy marks the lease as waited on: the owner still owns it.
        expect((await other.fused!.acquire('o', 5_000)).lease).toBeUndefined()
        expect(String(await redis.raw(keys.lock('o'), ['GET', keys.lock('o')]))).toBe(`${lease.token}+`)
        expect(await lock.extend(lease, 60_000)).toBe(true)
        expect(Number(await redis.raw(keys.lock('o'), ['PTTL', keys.lock('o')]))).toBeGreaterThan(50_000)
        expect(await lock.release(lease)).toBe(true)
        expect(await redis.raw(keys.lock('o'), ['EXISTS', keys.lock('o')])).toBe(0)
        expect(await lock.release(lease)).toBe(false)
        await Promise.all([lock.close?.(), other.close?.()])
      })

      it("fences come from Redis' clock (µs) and stay above the stored entry when the counter is gone", async () => {
        const store = redisStore(redis.client, { prefix })
        const lock = redisLock(redis.client, { prefix })
        const time = (await redis.raw(keys.value('c'), ['TIME'])) as [string, string]
        const before = Number(time[0]) * 1e6 + Number(time[1])
        const fresh = (await lock.acquire('clock', 1_000))!
        expect(fresh.fence).toBeGreaterThanOrEqual(before)
        expect(Number.isSafeInteger(fresh.fence)).toBe(true)
        await lock.release(fresh)
        // An entry from "the future" (a fence above the clock): the next fences go above it, exactly.
        const ahead = before + 1e12
        expect(await store.set('c', entry(ahead), 60_000)).toBe(true)
        await redis.raw(keys.fence('c'), ['DEL', keys.fence('c')])
        const lease = (await lock.acquire('c', 1_000))!
        expect(lease.fence).toBe(ahead + 1)
        expect(await lock.fence('c')).toBe(ahead + 2)
        const pttl = Number(await redis.raw(keys.fence('c'), ['PTTL', keys.fence('c')]))
        expect(pttl).toBeGreaterThan(86_000_000) // fenceTtl '1d', pushed on every use
        await lock.release(lease)
      })

      it('after SCRIPT FLUSH the scripts are sent again (NOSCRIPT → EVAL) and work', async () => {
        const store = redisStore(redis.client, { prefix })
        const { lock } = redisBackend(redis.client, { prefix })
        const flush = () => redis.everyMaster(['SCRIPT', 'FLUSH'])
        await store.set('n', entry(1), 60_000)
        await flush()
        expect(await store.set('n', entry(2), 60_000)).toBe(true)
        await flush()
        const lease = (await lock.acquire('n', 1_000))!
        expect(lease.fence).toBeGreaterThan(2)
        await flush()
        expect(await lock.release(lease)).toBe(true)
        await flush()
        expect(await store.expire('n', Date.now())).toBe(true)
        expect(await store.set('n', entry(1), 60_000)).toBe(false)
        await flush()
        const fused = (await lock.fused!.acquire('n', 1_000)).lease!
        await flush()
        expect(await lock.fused!.fill(fused, { entry: entry(fused.fence), ttlMs: 60_000 })).toEqual({ written: true, released: true })
        // EVAL cached the script again (on the key's node): later calls run by SHA.
        expect((await redis.everyMaster(['SCRIPT', 'EXISTS', FILL.sha])).flat()).toContain(1)
        await lock.close?.()
      })

      it('keys with braces and percent signs keep all their Redis keys (and wake channel) in one slot, and stay distinct', async () => {
        const store = redisStore(redis.client, { prefix })
        const { lock } = redisBackend(redis.client, { prefix })
        const tricky = ['{a}b', 'a{b}', '{}', '}{', '{a', 'a}', '%7B', '{', '', '{{x}}', 'user:{42}:profile']
        for (const [i, key] of tricky.entries()) {
          if (target.topology === 'cluster') {
            const names = [keys.value(key), keys.lock(key), keys.fence(key), keys.wake(key)]
            const slots = await Promise.all(names.map((n) => redis.raw(n, ['CLUSTER', 'KEYSLOT', n])))
            expect(new Set(slots).size, key).toBe(1)
          }
          const lease = (await lock.acquire(key, 2_000))!
          expect(lease, key).toBeDefined()
          if (i % 2 === 0) expect(await store.set(key, entry(lease.fence, `value ${i}`), 60_000)).toBe(true)
          else expect((await lock.fused!.fill(lease, { entry: entry(lease.fence, `value ${i}`), ttlMs: 60_000 })).written).toBe(true)
          await lock.release(lease)
        }
        for (const [i, key] of tricky.entries()) expect((await store.get(key))?.value, key).toBe(`value ${i}`)
        expect((await store.getMany!(tricky)).map((e) => e?.value)).toEqual(tricky.map((_, i) => `value ${i}`))
        await lock.close?.()
      })
    })
  }
})
