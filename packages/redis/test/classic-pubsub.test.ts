import { type RedisCluster, startRedisCluster } from '@herd/testing/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Connected, type Endpoints, LIBRARIES, closeConnections, connect, haveRedis, sentinel, uniquePrefix } from './clients.js'
import { percentile, spawnWorkers } from './fleet.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/*
 * Redis 6 has no sharded pub/sub, so a Redis 6 Cluster needs `shardedPubSub: false`: wake-ups and the Bus then go
 * on classic PUBLISH / SUBSCRIBE, which a Cluster broadcasts to every node. A Cluster of its own with the sharded
 * commands renamed away stands in for one here: a sharded command sent by mistake fails ("unknown command"), and
 * so does each test below (checked: with shardedPubSub left on, no wake-up or Bus message arrives).
 */
const SHARDED = ['SPUBLISH', 'SSUBSCRIBE', 'SUNSUBSCRIBE']

/** Calls by command name, summed over every master. */
async function commandsRun(redis: Connected): Promise<Map<string, number>> {
  const calls = new Map<string, number>()
  for (const info of await redis.everyMaster(['INFO', 'commandstats'])) {
    for (const line of String(info).split('\n')) {
      const call = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
      if (call) calls.set(call[1]!, (calls.get(call[1]!) ?? 0) + Number(call[2]))
    }
  }
  return calls
}

describe.skipIf(!haveRedis)('a Cluster without sharded pub/sub (shardedPubSub: false, as on Redis 6)', () => {
  let cluster: RedisCluster | undefined
  let endpoints: Endpoints
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, args: SHARDED.flatMap((command) => ['--rename-command', command, `${command}-RENAMED`]) })
    endpoints = { url: '', clusterUrls: cluster.rootNodes.map((n) => n.url), sentinel }
  }, 60_000)
  afterAll(async () => {
    await closeConnections()
    await cluster?.stop()
  })

  for (const library of LIBRARIES) {
    describe(library, () => {
      const target = { library, topology: 'cluster' } as const
      const config = (prefix: string, herd: Record<string, unknown>) => ({
        target,
        endpoints,
        prefix,
        herd: { lease: '30s', ...herd },
        redis: { shardedPubSub: false },
      })

      it('4 × 250 callers of one cold key → 1 loader call; in the fused path the waiting processes are woken with the entry', async () => {
        const redis = await connect(target, endpoints)
        const before = await commandsRun(redis)
        const prefix = uniquePrefix()
        const counterKey = `${prefix}loader-calls`
        const workers = await spawnWorkers(4, config(prefix, {}))
        for (const w of workers) w.send({ cmd: 'fetch', key: 'user:1', callers: 250, loaderMs: 50, counterKey, value: 'loaded' })
        const fetched = (await Promise.all(workers.map((w) => w.next<{ outcomes: Array<{ ok: boolean; ms: number }> }>('fetched')))).flatMap(
          (r) => r.outcomes,
        )
        expect(fetched).toHaveLength(1_000)
        expect(fetched.filter((o) => !o.ok)).toEqual([])
        expect(Number(await redis.raw(counterKey, ['GET', counterKey]))).toBe(1)

        // The fused path below core, 20 keys across the slots: the 3 processes that don't load each key are woken with it.
        const keys = Array.from({ length: 20 }, (_, i) => `cold:${i}`)
        const fusedCounter = `${prefix}fused-loader-calls`
        for (const w of workers) w.send({ cmd: 'fused', keys, callers: 5, loaderMs: 20, leaseMs: 30_000, counterKey: fusedCounter, value: 'loaded' })
        const fused = await Promise.all(workers.map((w) => w.next<{ outcomes: Array<{ key: string; ok: boolean; via: string }> }>('fused')))
        const outcomes = fused.flatMap((r) => r.outcomes)
        expect(outcomes.filter((o) => !o.ok)).toEqual([])
        expect(Number(await redis.raw(fusedCounter, ['GET', fusedCounter]))).toBe(keys.length)
        const vias = fused.flatMap((r) => [...new Set(r.outcomes.map((o) => `${o.key} ${o.via}`))].map((s) => s.split(' ')[1]))
        expect(vias.filter((v) => v === 'load')).toHaveLength(keys.length)
        expect(vias.filter((v) => v === 'woken-read' || v === 'error')).toEqual([])
        expect(vias.filter((v) => v === 'pushed').length).toBeGreaterThan(0)

        // The wake-ups went on classic pub/sub: one PUBLISH per fill at least (a sharded one would have failed above).
        const after = await commandsRun(redis)
        const ran = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0)
        expect(ran('subscribe')).toBeGreaterThan(0)
        expect(ran('publish')).toBeGreaterThanOrEqual(keys.length + 1)
        console.log(
          `[${library}, cluster, classic pub/sub: 4×250 on one key] loader calls 1, p99 ${percentile(
            fetched.map((o) => o.ms),
            99,
          ).toFixed(1)} ms; fused: ${vias.filter((v) => v === 'pushed').length} processes woken with the entry, ${ran('publish')} PUBLISH`,
        )
      })

      it("the Bus: a set in one process drops another process' local copy of the key", async () => {
        const prefix = uniquePrefix()
        const counterKey = `${prefix}loader-calls`
        // A local copy that would outlive the test on its own: only the Bus message can drop it.
        const [writer, reader] = await spawnWorkers(2, config(prefix, { local: { ttl: '1h' }, ttl: '1h' }))
        writer!.send({ cmd: 'fetch', key: 'k', callers: 1, counterKey, value: 'v1' })
        await writer!.next('fetched')
        reader!.send({ cmd: 'fetch', key: 'k', callers: 1, counterKey, value: 'never loaded' })
        expect((await reader!.next<{ outcomes: Array<{ value: unknown }> }>('fetched')).outcomes[0]!.value).toBe('v1')
        const get = async () => {
          reader!.send({ cmd: 'call', method: 'get', args: ['k'] })
          return (await reader!.next<{ value: unknown }>('called')).value
        }
        expect(await get()).toBe('v1')
        writer!.send({ cmd: 'call', method: 'set', args: ['k', 'v2'] })
        expect(await writer!.next('called')).toMatchObject({ ok: true })
        // The message is on its way: ask until it has come (a test timeout, not a time window, bounds the wait).
        let seen = await get()
        while (seen === 'v1') {
          await sleep(20)
          seen = await get()
        }
        expect(seen).toBe('v2')
      })
    })
  }
})
