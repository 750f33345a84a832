import { type RedisSentinelSet, startRedisSentinel } from '@herd/testing/redis-server'
import { afterEach, describe, expect, it } from 'vitest'
import { LIBRARIES, connect, haveRedis, haveSentinel, uniquePrefix } from './clients.js'
import { spawnWorkers } from './fleet.js'

interface Traffic {
  fetches: number
  rejects: number
  wrong: number
  firstErrors: string[]
  breaker: Array<{ to: string }>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// DESIGN.md non-negotiables 1, 5 and 7 through a failover: a master and a replica behind three real Sentinels.
describe.skipIf(!haveRedis || !haveSentinel)('Sentinel: the master is killed under traffic', () => {
  let set: RedisSentinelSet | undefined
  afterEach(async () => {
    await set?.stop()
    set = undefined
  })

  for (const library of LIBRARIES) {
    it(`${library}: no fetch rejects, exactly-once resumes on the promoted replica, fences stay monotonic`, async () => {
      set = await startRedisSentinel()
      const endpoints = { url: '', clusterUrls: [], sentinel: { name: set.name, nodes: [...set.sentinelNodes] } }
      const target = { library, topology: 'sentinel' } as const
      const prefix = uniquePrefix()
      const herd = { local: false, ttl: '500ms', lease: '2s', operationTimeout: '300ms', breaker: { threshold: 3, resetAfter: '200ms' } }
      const workers = await spawnWorkers(3, { target, endpoints, prefix, herd, commandTimeout: 300 })
      const [first] = workers
      first!.send({ cmd: 'fence', key: 'fenced' })
      const before = (await first!.next<{ fence: number }>('fence')).fence

      // Traffic on 20 keys from every process while the master dies and a replica is promoted.
      for (const w of workers) w.send({ cmd: 'traffic', key: 'k', keys: 20, lanes: 4, pauseMs: 5, durationMs: 60_000 })
      await sleep(500)
      const { from, to } = await set.failover()
      expect(to.port).not.toBe(from.port)
      await sleep(1_000) // traffic on the new master
      for (const w of workers) w.send({ cmd: 'stop-traffic' })
      const results = await Promise.all(workers.map((w) => w.next<Traffic>('traffic', 20_000)))
      for (const r of results) {
        expect(r.rejects, r.firstErrors.join('\n')).toBe(0)
        expect(r.wrong).toBe(0)
        expect(r.fetches).toBeGreaterThan(0) // traffic ran through the failover (how much depends on the machine)
      }

      // Every process is back on Redis (its breaker closed again) before the next stampede.
      for (const w of workers) w.send({ cmd: 'settle' })
      expect((await Promise.all(workers.map((w) => w.next<{ ok: boolean }>('settled', 25_000)))).map((s) => s.ok)).toEqual([true, true, true])

      // Fences taken after the promotion are above every fence from before it.
      first!.send({ cmd: 'fence', key: 'fenced' })
      expect((await first!.next<{ fence: number }>('fence')).fence).toBeGreaterThan(before)

      // Exactly once again, fleet-wide, on the new master: a cold key in every process at once, 1 loader call.
      const counterKey = `${prefix}loader-calls`
      for (const w of workers) w.send({ cmd: 'fetch', key: 'after-failover', callers: 50, loaderMs: 100, counterKey, value: 'v', options: { ttl: '1m' } })
      const fetched = await Promise.all(workers.map((w) => w.next<{ outcomes: Array<{ ok: boolean }> }>('fetched')))
      expect(fetched.flatMap((f) => f.outcomes).filter((o) => !o.ok)).toEqual([])
      const redis = await connect(target, endpoints)
      expect(Number(await redis.raw(counterKey, ['GET', counterKey]))).toBe(1)
      await redis.close()
      for (const w of workers) await w.stop() // before the Sentinels go
      console.log(
        `[${library}: sentinel failover ${from.port} → ${to.port}] ${results.map((r) => `${r.fetches} fetches, 0 rejected, breaker ${r.breaker.map((e) => e.to).join('→') || 'closed'}`).join('; ')}`,
      )
    })
  }
})
