import { createHerd } from '@herd/core'
import { type RedisServer, startRedis } from '@herd/testing/redis-server'
import { describe, expect, it } from 'vitest'
import { redisStore } from '../src/index.js'
import { type Endpoints, LIBRARIES, TARGETS, type Target, clusterUrls, connect, haveRedis, redisUrl, sentinel, uniquePrefix } from './clients.js'
import { percentile, spawnWorkers } from './fleet.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const shared: Endpoints = { url: redisUrl, clusterUrls, sentinel }

interface Outcome {
  ok: boolean
  ms: number
  at: number
}
interface Fetched {
  started: number
  outcomes: Outcome[]
  writes: Array<{ kind: string; accepted: boolean; at: number }>
  stats: { fencedOut: number }
}
interface FusedOutcome {
  key: string
  ok: boolean
  via: 'hit' | 'double-check' | 'load' | 'busy-read' | 'pushed' | 'woken-read' | 'error'
  at: number
}
interface Fused {
  outcomes: FusedOutcome[]
  writes: Array<{ key: string; fence: number; written: boolean; at: number }>
}

// Non-negotiables 1–3 of DESIGN.md with real processes and real Redis, on every client library and topology.
describe.skipIf(!haveRedis)('across processes (real node processes, one Redis)', () => {
  for (const target of TARGETS) {
    describe(target.label, () => {
      const config = (prefix: string, herd?: Record<string, unknown>) => ({ target, endpoints: shared, prefix, herd })
      async function loaderCalls(counterKey: string): Promise<number> {
        const redis = await connect(target)
        return Number((await redis.raw(counterKey, ['GET', counterKey])) ?? 0)
      }

      it('cold stampede through the herd: 4 × 250 concurrent fetches of one key → 1 loader call, all 1,000 get the value', async () => {
        const prefix = uniquePrefix()
        const counterKey = `${prefix}loader-calls`
        const workers = await spawnWorkers(4, config(prefix, { lease: '5s' }))
        const value = { user: 1, name: 'Ada' }
        for (const w of workers) w.send({ cmd: 'fetch', key: 'user:1', callers: 250, loaderMs: 100, counterKey, value, options: { ttl: '1m' } })
        const results = await Promise.all(workers.map((w) => w.next<Fetched>('fetched')))
        const outcomes = results.flatMap((r) => r.outcomes)
        expect(outcomes).toHaveLength(1_000)
        expect(outcomes.filter((o) => !o.ok)).toEqual([])
        expect(await loaderCalls(counterKey)).toBe(1)
        const latencies = outcomes.map((o) => o.ms)
        console.log(
          `[${target.label}: cold stampede 4×250] loader calls: 1; caller latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`,
        )
      })

      it('cold stampede through lock.fused: 4 processes × 20 keys × 25 callers → 1 loader call per key, waiters get the value with the wake-up', async () => {
        const prefix = uniquePrefix()
        const counterKey = `${prefix}loader-calls`
        const workers = await spawnWorkers(4, config(prefix))
        const keys = Array.from({ length: 20 }, (_, i) => `cold:${i}`)
        // A long lease: on a busy machine no wait may end on its timeout, only on the fill's wake-up.
        for (const w of workers) w.send({ cmd: 'fused', keys, callers: 25, loaderMs: 50, leaseMs: 30_000, counterKey, value: 'loaded' })
        const results = await Promise.all(workers.map((w) => w.next<Fused>('fused')))
        const outcomes = results.flatMap((r) => r.outcomes)
        expect(outcomes).toHaveLength(4 * 20 * 25)
        expect(outcomes.filter((o) => !o.ok)).toEqual([])
        expect(await loaderCalls(counterKey)).toBe(keys.length)
        const writes = results.flatMap((r) => r.writes)
        expect(writes.filter((w) => w.written)).toHaveLength(keys.length)
        // Every key had waiters in 3 other processes; each was woken with the entry, not by a read.
        const vias = results.flatMap((r) => [...new Set(r.outcomes.map((o) => `${o.key} ${o.via}`))].map((s) => s.split(' ')[1]))
        expect(vias.filter((v) => v === 'load')).toHaveLength(keys.length)
        expect(vias.filter((v) => v === 'woken-read' || v === 'error')).toEqual([])
        const wake = results.flatMap((r) => r.outcomes.filter((o) => o.via === 'pushed').map((o) => o.at - writes.find((w) => w.key === o.key)!.at))
        console.log(
          `[${target.label}: fused stampede 4×20 keys] pushed wake-ups ${vias.filter((v) => v === 'pushed').length}, busy reads ${vias.filter((v) => v === 'busy-read').length}; wake-up after the fill's reply p50 ${percentile(wake, 50).toFixed(2)} ms`,
        )
      })

      it("fencing: A's lease runs out while its loader hangs, B takes over and writes; A's late write is refused, B's value stays", async () => {
        const prefix = uniquePrefix()
        const counterKey = `${prefix}loader-calls`
        const [a, b] = await spawnWorkers(2, config(prefix, { lease: '500ms', hardTimeout: '10s' }))
        a!.send({ cmd: 'fetch', key: 'k', callers: 1, busyMs: 1_500, announce: true, counterKey, value: 'A' })
        await a!.next('loading')
        await sleep(700) // A's lease (500 ms, not renewed: A's event loop is blocked) has run out
        b!.send({ cmd: 'fetch', key: 'k', callers: 1, counterKey, value: 'B' })
        const fromB = await b!.next<Fetched>('fetched')
        expect(fromB.outcomes[0]!.ok).toBe(true)
        expect(fromB.writes).toMatchObject([{ kind: 'load', accepted: true }])
        const fromA = await a!.next<Fetched>('fetched')
        expect(fromA.writes).toMatchObject([{ kind: 'load', accepted: false }])
        expect(fromA.stats.fencedOut).toBe(1)
        expect(await loaderCalls(counterKey)).toBe(2)
        const reader = createHerd({ store: redisStore((await connect(target)).client, { prefix }), local: false })
        expect(await reader.get('k')).toBe('B')
        await reader.close()
      })

      it('holder SIGKILLed mid-load: the others get the value after its lease runs out, with one more loader call', async () => {
        const prefix = uniquePrefix()
        const counterKey = `${prefix}loader-calls`
        const [doomed] = await spawnWorkers(1, config(prefix, { lease: '1s' }))
        doomed!.send({ cmd: 'fetch', key: 'k', callers: 1, hang: true, announce: true, counterKey, value: 'never' })
        await doomed!.next('loading')
        const others = await spawnWorkers(3, config(prefix, { lease: '1s' }))
        for (const w of others) w.send({ cmd: 'fetch', key: 'k', callers: 50, loaderMs: 50, counterKey, value: 'fresh' })
        await sleep(100)
        doomed!.child.kill('SIGKILL')
        const results = await Promise.all(others.map((w) => w.next<Fetched>('fetched', 10_000)))
        const outcomes = results.flatMap((r) => r.outcomes)
        expect(outcomes.filter((o) => !o.ok)).toEqual([])
        expect(outcomes).toHaveLength(150)
        expect(await loaderCalls(counterKey)).toBe(2)
      })

      // Once per client library: the stale path is the same on every topology.
      if (target.topology === 'single')
        it('stale stampede: 4 × 250 fetches of a key inside its stale window → all served the stale value, 1 refresh', async () => {
          const prefix = uniquePrefix()
          const counterKey = `${prefix}loader-calls`
          const [primer] = await spawnWorkers(1, config(prefix))
          primer!.send({ cmd: 'fetch', key: 'k', callers: 1, counterKey, value: 'v1', options: { ttl: '300ms', staleWhileRevalidate: '1m', jitter: 0 } })
          await primer!.next('fetched')
          await primer!.stop()
          const workers = await spawnWorkers(4, config(prefix, { lease: '5s' }))
          await sleep(400) // past the 300 ms ttl: stale, inside the window
          const options = { ttl: '1m', staleWhileRevalidate: '1m', jitter: 0 }
          for (const w of workers) w.send({ cmd: 'fetch', key: 'k', callers: 250, loaderMs: 1_000, counterKey, value: 'v2', expect: 'v1', options })
          const results = await Promise.all(workers.map((w) => w.next<Fetched>('fetched')))
          const outcomes = results.flatMap((r) => r.outcomes)
          expect(outcomes).toHaveLength(1_000)
          // Every caller got the stale value: none waited for the refresh (its loader answers 'v2').
          expect(outcomes.filter((o) => !o.ok)).toEqual([])
          // The refresh lands in the Store, once.
          const reader = createHerd({ store: redisStore((await connect(target)).client, { prefix }), local: false })
          const deadline = Date.now() + 5_000
          while (Date.now() < deadline && (await reader.get('k')) !== 'v2') await sleep(50)
          expect(await reader.get('k')).toBe('v2')
          for (const w of workers) await w.stop() // no refresh can start after this
          expect(await loaderCalls(counterKey)).toBe(2) // the primer's load + 1 refresh
          await reader.close()
        })
    })
  }

  for (const library of LIBRARIES) {
    it(`${library}: Redis killed mid-traffic and restarted: no fetch rejects, the breaker opens and closes, values are cached again`, async () => {
      const server: RedisServer = await startRedis()
      try {
        const prefix = uniquePrefix()
        const herd = { local: false, ttl: '1s', lease: '1s', operationTimeout: '200ms', breaker: { threshold: 3, resetAfter: '200ms' } }
        const target: Pick<Target, 'library' | 'topology'> = { library, topology: 'single' }
        const workers = await spawnWorkers(2, { target, endpoints: { url: server.url, clusterUrls: [], sentinel }, prefix, herd, commandTimeout: 200 })
        for (const w of workers) w.send({ cmd: 'traffic', key: 'k', keys: 20, lanes: 4, pauseMs: 5, durationMs: 3_500 })
        await sleep(800)
        await server.kill()
        await sleep(1_000)
        await server.restart()
        const results = await Promise.all(
          workers.map((w) => w.next<{ fetches: number; rejects: number; wrong: number; breaker: Array<{ from: string; to: string }> }>('traffic', 15_000)),
        )
        for (const r of results) {
          expect(r.fetches).toBeGreaterThan(100)
          expect(r.rejects).toBe(0)
          expect(r.wrong).toBe(0)
          expect(r.breaker.some((e) => e.to === 'open')).toBe(true)
          expect(r.breaker.at(-1)?.to).toBe('closed')
        }
        // The restarted server started empty: whatever is in it was cached after the restart.
        expect(Number(await server.command('EVAL', `return #redis.call('KEYS', ARGV[1])`, '0', `${prefix}{k:*}:v`))).toBeGreaterThan(0)
        console.log(
          `[${library}: redis restart] ${results.map((r) => `${r.fetches} fetches, 0 rejected, breaker ${r.breaker.map((e) => e.to).join('→')}`).join('; ')}`,
        )
      } finally {
        await server.stop()
      }
    })
  }
})
