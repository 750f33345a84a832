import { setMaxListeners } from 'node:events'
import { beforeAll, describe, expect, it } from 'vitest'
import { type RedisClient, redisBus, redisLock } from '../src/index.js'
import { isCluster } from '../src/commands.js'
import { keyspace } from '../src/keys.js'
import { TOPOLOGIES, connect, haveRedis, uniquePrefix } from './clients.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Channels matching `pattern` that have subscribers, on every node. */
async function channels(client: RedisClient, pattern: string): Promise<string[]> {
  if (!isCluster(client)) return (await client.sendCommand(['PUBSUB', 'CHANNELS', pattern])) as string[]
  const perNode = await Promise.all(
    client.masters.map(async (m) => (await client.nodeClient(m)).sendCommand(['PUBSUB', 'CHANNELS', pattern]) as Promise<string[]>),
  )
  return perNode.flat()
}

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check()) return true
    await sleep(20)
  }
  return check()
}

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
}

describe.skipIf(!haveRedis)('Lock.wait', () => {
  for (const topology of TOPOLOGIES) {
    describe(topology, () => {
      // Two clients stand for two processes: the holder's and the waiter's.
      let holderClient: RedisClient
      let waiterClient: RedisClient
      beforeAll(async () => {
        ;[holderClient, waiterClient] = await Promise.all([connect(topology), connect(topology)])
      })

      it('wakes a waiter on another client within a round trip of the release', async () => {
        const prefix = uniquePrefix()
        const holder = redisLock(holderClient, { prefix })
        const waiter = redisLock(waiterClient, { prefix })
        const lease = (await holder.acquire('k', 10_000))!
        const woken = waiter.wait('k', 10_000)
        await sleep(100) // subscribed and checked by now
        const released = performance.now()
        await holder.release(lease)
        expect(await woken).toBe(true)
        const delay = performance.now() - released
        console.log(`[${topology}] wake-up after release: ${delay.toFixed(2)} ms`)
        expect(delay).toBeLessThan(250)
        await Promise.all([holder.close?.(), waiter.close?.()])
      })

      it('resolves true at once when the key is not held, and when the holder crashed (lease expiry, no message)', async () => {
        const prefix = uniquePrefix()
        const holder = redisLock(holderClient, { prefix })
        const waiter = redisLock(waiterClient, { prefix, fallbackInterval: 5_000 })
        expect(await waiter.wait('free', 5_000)).toBe(true)
        await holder.acquire('crashed', 300) // never released
        const started = Date.now()
        expect(await waiter.wait('crashed', 5_000)).toBe(true)
        const waited = Date.now() - started
        expect(waited).toBeGreaterThanOrEqual(200)
        expect(waited).toBeLessThan(1_500) // the check scheduled from PTTL, not the 5 s fallback
        await Promise.all([holder.close?.(), waiter.close?.()])
      })

      it('a lost wake-up message costs at most the fallback interval', async () => {
        const prefix = uniquePrefix()
        const keys = keyspace(prefix)
        const holder = redisLock(holderClient, { prefix })
        const waiter = redisLock(waiterClient, { prefix, fallbackInterval: 200 })
        await holder.acquire('lost', 30_000)
        const woken = waiter.wait('lost', 10_000)
        await sleep(100)
        // The lease goes without the release script, so nothing is published.
        const lockKey = keys.lock('lost')
        await (isCluster(holderClient) ? holderClient.sendCommand(lockKey, false, ['DEL', lockKey]) : holderClient.sendCommand(['DEL', lockKey]))
        const started = Date.now()
        expect(await woken).toBe(true)
        expect(Date.now() - started).toBeLessThan(1_000)
        await Promise.all([holder.close?.(), waiter.close?.()])
      })

      it('false on timeout, on abort and on close; never rejects', async () => {
        const prefix = uniquePrefix()
        const holder = redisLock(holderClient, { prefix })
        const waiter = redisLock(waiterClient, { prefix })
        await holder.acquire('held', 30_000)
        expect(await waiter.wait('held', 150)).toBe(false)
        const controller = new AbortController()
        const aborted = waiter.wait('held', 10_000, controller.signal)
        setTimeout(() => controller.abort(), 50)
        expect(await aborted).toBe(false)
        expect(await waiter.wait('held', 10_000, AbortSignal.abort())).toBe(false)
        // 'other' is held before anyone waits on it: a wait on a free key rightly resolves true at once
        await holder.acquire('other', 30_000)
        const pending = [waiter.wait('held', 10_000), waiter.wait('held', 10_000), waiter.wait('other', 10_000)]
        await sleep(50)
        await waiter.close?.()
        expect(await Promise.all(pending)).toEqual([false, false, false])
        expect(await waiter.wait('held', 10_000)).toBe(false) // after close
        await holder.close?.()
      })

      it('after 1,000 waits settle, no channel subscription and no timer is left', async () => {
        const prefix = uniquePrefix()
        const holder = redisLock(holderClient, { prefix })
        const waiter = redisLock(waiterClient, { prefix })
        const bus = redisBus(waiterClient, { prefix }) // shares the subscriber connection
        const unsubscribe = await bus.subscribe(() => {})
        const baseline = timeouts()
        const keys = Array.from({ length: 100 }, (_, i) => `k${i}`)
        const leases = await Promise.all(keys.map((k) => holder.acquire(k, 30_000)))
        const controller = new AbortController()
        setMaxListeners(0, controller.signal) // one signal for 333 waits, on purpose
        const waits = Array.from({ length: 1_000 }, (_, i) => {
          const key = keys[i % keys.length]!
          // a third is woken by a release, a third times out, a third is aborted
          if (i % 3 === 0) return waiter.wait(key, 10_000)
          if (i % 3 === 1) return waiter.wait(key, 200 + (i % 7) * 30)
          return waiter.wait(key, 10_000, controller.signal)
        })
        await sleep(300)
        expect((await channels(waiterClient, `${prefix}*:wake`)).length).toBeGreaterThan(0)
        controller.abort()
        await Promise.all(leases.map((lease) => holder.release(lease!)))
        const results = await Promise.all(waits)
        expect(results.filter((r, i) => i % 3 === 0).every(Boolean)).toBe(true)
        expect(results.filter((r, i) => i % 3 === 2).some(Boolean)).toBe(false)
        expect(await until(async () => (await channels(waiterClient, `${prefix}*:wake`)).length === 0, 3_000)).toBe(true)
        // The bus' own subscription is untouched by the waiters coming and going.
        expect(await channels(waiterClient, `${prefix}bus`)).toEqual([`${prefix}bus`])
        expect(timeouts()).toBeLessThanOrEqual(baseline)
        await unsubscribe()
        expect(await until(async () => (await channels(waiterClient, `${prefix}*`)).length === 0, 3_000)).toBe(true)
        await Promise.all([holder.close?.(), waiter.close?.(), bus.close?.()])
      })
    })
  }
})
