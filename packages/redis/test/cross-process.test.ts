import { createHerd } from '@herd/core'
import { type RedisServer, startRedis } from '@herd/testing/redis-server'
import { describe, expect, it } from 'vitest'
import { redisStore } from '../src/index.js'
import { connect, haveRedis, redisUrl, uniquePrefix } from './clients.js'
import { percentile, spawnWorkers } from './fleet.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

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

async function loaderCalls(counterKey: string): Promise<number> {
  const client = await connect('single')
  return Number((await client.get(counterKey)) ?? 0)
}

// Non-negotiables 1–3 of DESIGN.md with real processes and a real redis-server.
describe.skipIf(!haveRedis)('across processes (4 real node processes, one Redis)', () => {
  it('cold stampede: 4 × 250 concurrent fetches of one key → 1 loader call, all 1,000 get the value; waiters wake on the write', async () => {
    const prefix = uniquePrefix()
    const counterKey = `${prefix}loader-calls`
    const workers = await spawnWorkers(4, { url: redisUrl, prefix, herd: { lease: '5s' } })
    const value = { user: 1, name: 'Ada' }
    for (const w of workers) w.send({ cmd: 'fetch', key: 'user:1', callers: 250, loaderMs: 100, counterKey, value, options: { ttl: '1m' } })
    const results = await Promise.all(workers.map((w) => w.next<Fetched>('fetched')))

    const outcomes = results.flatMap((r) => r.outcomes)
    expect(outcomes).toHaveLength(1_000)
    expect(outcomes.filter((o) => !o.ok)).toEqual([])
    expect(await loaderCalls(counterKey)).toBe(1)

    const holder = results.find((r) => r.writes.some((w) => w.kind === 'load' && w.accepted))!
    expect(holder).toBeDefined()
    const writeAt = holder.writes[0]!.at
    // Wake-up: how long after the holder's Store write the first caller of each other process had the value.
    const delays = results.filter((r) => r !== holder).map((r) => Math.min(...r.outcomes.map((o) => o.at)) - writeAt)
    const latencies = outcomes.map((o) => o.ms)
    console.log(
      `[cold stampede 4×250] loader calls: 1; caller latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms; ` +
        `wake-up after the write: ${delays.map((d) => d.toFixed(1)).join(' / ')} ms`,
    )
    for (const d of delays) expect(d).toBeLessThan(250)
  })

  it('stale stampede: 4 × 250 fetches of a key inside its stale window → all served stale at once, 1 refresh', async () => {
    const prefix = uniquePrefix()
    const counterKey = `${prefix}loader-calls`
    const [primer] = await spawnWorkers(1, { url: redisUrl, prefix })
    primer!.send({ cmd: 'fetch', key: 'k', callers: 1, counterKey, value: 'v1', options: { ttl: '300ms', staleWhileRevalidate: '1m', jitter: 0 } })
    await primer!.next('fetched')
    await primer!.stop()
    const workers = await spawnWorkers(4, { url: redisUrl, prefix, herd: { lease: '5s' } })
    await sleep(400) // past the 300 ms ttl: stale, inside the window
    const options = { ttl: '1m', staleWhileRevalidate: '1m', jitter: 0 }
    for (const w of workers) w.send({ cmd: 'fetch', key: 'k', callers: 250, loaderMs: 1_000, counterKey, value: 'v2', expect: 'v1', options })
    const results = await Promise.all(workers.map((w) => w.next<Fetched>('fetched')))
    const outcomes = results.flatMap((r) => r.outcomes)
    expect(outcomes).toHaveLength(1_000)
    // Every caller got the stale value, none waited for the 1 s refresh.
    expect(outcomes.filter((o) => !o.ok)).toEqual([])
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(800)
    // The refresh lands in the Store, once.
    const deadline = Date.now() + 5_000
    const reader = createHerd({ store: redisStore(await connect('single'), { prefix }), local: false })
    while (Date.now() < deadline && (await reader.get('k')) !== 'v2') await sleep(50)
    expect(await reader.get('k')).toBe('v2')
    await sleep(300) // a second refresh, if any, would have started by now
    expect(await loaderCalls(counterKey)).toBe(2) // the primer's load + 1 refresh
    const latencies = outcomes.map((o) => o.ms)
    console.log(
      `[stale stampede 4×250] refreshes: 1; caller latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`,
    )
    await reader.close()
  })

  it("fencing: A's lease runs out while its loader hangs, B takes over and writes; A's late write is refused, B's value stays", async () => {
    const prefix = uniquePrefix()
    const counterKey = `${prefix}loader-calls`
    const [a, b] = await spawnWorkers(2, { url: redisUrl, prefix, herd: { lease: '500ms', hardTimeout: '10s' } })
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
    const reader = createHerd({ store: redisStore(await connect('single'), { prefix }), local: false })
    expect(await reader.get('k')).toBe('B')
    await reader.close()
  })

  it('holder SIGKILLed mid-load: the others get the value after its lease runs out, with one more loader call', async () => {
    const prefix = uniquePrefix()
    const counterKey = `${prefix}loader-calls`
    const config = { url: redisUrl, prefix, herd: { lease: '1s' } }
    const [doomed] = await spawnWorkers(1, config)
    doomed!.send({ cmd: 'fetch', key: 'k', callers: 1, hang: true, announce: true, counterKey, value: 'never' })
    await doomed!.next('loading')
    const others = await spawnWorkers(3, config)
    const started = Date.now()
    for (const w of others) w.send({ cmd: 'fetch', key: 'k', callers: 50, loaderMs: 50, counterKey, value: 'fresh' })
    await sleep(100)
    doomed!.child.kill('SIGKILL')
    const results = await Promise.all(others.map((w) => w.next<Fetched>('fetched', 10_000)))
    const outcomes = results.flatMap((r) => r.outcomes)
    expect(outcomes.filter((o) => !o.ok)).toEqual([])
    expect(outcomes).toHaveLength(150)
    expect(await loaderCalls(counterKey)).toBe(2)
    const took = Date.now() - started
    console.log(`[holder killed] all 150 callers had the value ${took} ms after they asked (lease 1 s)`)
    expect(took).toBeLessThan(5_000)
  })

  it('Redis killed mid-traffic and restarted: no fetch rejects, the breaker opens and closes, values are cached again', async () => {
    const server: RedisServer = await startRedis()
    try {
      const prefix = uniquePrefix()
      const herd = { local: false, ttl: '1s', lease: '1s', operationTimeout: '200ms', breaker: { threshold: 3, resetAfter: '200ms' } }
      const workers = await spawnWorkers(2, { url: server.url, prefix, herd, commandTimeout: 200 })
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
      console.log(`[redis restart] ${results.map((r) => `${r.fetches} fetches, 0 rejected, breaker ${r.breaker.map((e) => e.to).join('→')}`).join('; ')}`)
    } finally {
      await server.stop()
    }
  })
})
