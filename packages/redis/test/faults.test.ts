import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { type Herd, type HerdOptions, HerdUnavailableError, createHerd } from '@herd/core'
import { type FaultProxy, startFaultProxy } from '@herd/testing/fault-proxy'
import { type RedisServer, startRedis } from '@herd/testing/redis-server'
import { createClient } from 'redis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { redisBackend } from '../src/index.js'
import { haveRedis, uniquePrefix } from './clients.js'
import { spawnWorkers } from './fleet.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` until it holds (a bound on a hang, never an assertion on speed). */
async function until(check: () => boolean | Promise<boolean>, what: string, attempts = 200): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return
    await sleep(50)
  }
  throw new Error(`never happened: ${what}`)
}

type Client = ReturnType<typeof createClient>

/**
 * Faults between a herd and a real redis-server (a TCP fault proxy on loopback), and what the herd promises through
 * them: latency, never errors; at most one load per key per process per backoff; fences monotonic across data loss;
 * writes made during an outage held here and replayed after it.
 */
describe.skipIf(!haveRedis)('faults between a herd and Redis (a fault proxy, a real redis-server)', () => {
  let redis: RedisServer
  const opened: Array<() => Promise<unknown>> = []
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterEach(async () => {
    await Promise.all(
      opened.splice(0).map((close) =>
        Promise.resolve()
          .then(close)
          .catch(() => {}),
      ),
    )
  })
  afterAll(async () => {
    await redis?.stop()
  })

  async function client(url: string): Promise<Client> {
    const c = createClient({ url, socket: { reconnectStrategy: () => 50, connectTimeout: 1_000 } })
    c.on('error', () => {})
    await c.connect()
    opened.push(async () => c.destroy())
    return c as Client
  }

  async function proxy(): Promise<FaultProxy> {
    const p = await startFaultProxy({ port: redis.port })
    opened.push(() => p.stop())
    return p
  }

  /** A herd whose Store, Lock and Bus all go through `p`. */
  async function herdThrough(p: FaultProxy, prefix: string, options: HerdOptions = {}): Promise<Herd> {
    const c = await client(p.url)
    const herd = createHerd({
      ...redisBackend(c, { prefix, commandTimeout: 400 }),
      breaker: { threshold: 2, resetAfter: '300ms' },
      operationTimeout: '500ms',
      errorBackoff: '500ms',
      ...options,
    })
    opened.unshift(() => herd.close())
    return herd
  }

  /** A loader that counts its calls per key. */
  function counting(value: (key: string, n: number) => unknown = (key, n) => `${key}#${n}`) {
    const calls = new Map<string, number>()
    const loader = async ({ key }: { key: string }) => {
      const n = (calls.get(key) ?? 0) + 1
      calls.set(key, n)
      return value(key, n)
    }
    return { loader, calls, total: () => [...calls.values()].reduce((a, b) => a + b, 0) }
  }

  /** `lanes` callers fetching `keys` in turn for `rounds` rounds: how many rejected, and what they got. */
  async function traffic(
    herd: Herd,
    keys: string[],
    loader: (ctx: { key: string }) => Promise<unknown>,
    rounds: number,
    { lanes = 10, pause = 5, until: done = () => false }: { lanes?: number; pause?: number; until?: () => boolean } = {},
  ) {
    let rejected = 0
    const errors: string[] = []
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        for (let r = 0; r < rounds && !done(); r++) {
          const key = keys[(lane + r) % keys.length]!
          await herd.fetch(key, loader).catch((error: unknown) => {
            rejected++
            if (errors.length < 3) errors.push(String(error))
          })
          await sleep(pause)
        }
      }),
    )
    return { rejected, errors }
  }

  it('latency under the command timeout costs latency only: 200 callers of a cold key, one load, nobody rejected', async () => {
    const p = await proxy()
    const herd = await herdThrough(p, uniquePrefix())
    const db = counting()
    p.latency(100)
    const values = await Promise.all(Array.from({ length: 200 }, () => herd.fetch('cold', db.loader)))
    expect(new Set(values)).toEqual(new Set(['cold#1']))
    expect(db.total()).toBe(1)
  })

  it('latency past the timeout, then a blackhole: no fetch rejects, a key loads at most once per errorBackoff, the breaker opens and closes on its own', async () => {
    const p = await proxy()
    const prefix = uniquePrefix()
    const herd = await herdThrough(p, prefix, { ttl: 200, staleWhileRevalidate: '1h', staleIfError: '1h', jitter: 0, beta: 0, local: { ttl: '1h' } })
    const states: string[] = []
    herd.on('breaker', (e) => states.push(e.to))
    const keys = ['a', 'b', 'c']
    const db = counting()
    await Promise.all(keys.map((k) => herd.fetch(k, db.loader)))
    p.latency(1_000) // past the 400 ms command timeout
    // Stale entries are refreshed in the background through the slow Redis until the timeouts open the breaker
    // (bounded: 400 rounds of 25 ms).
    const slow = await traffic(herd, keys, db.loader, 400, { pause: 25, until: () => states.includes('open') })
    p.blackhole()
    const started = Date.now()
    const dark = await traffic(herd, keys, db.loader, 60, { pause: 25 })
    const darkMs = Date.now() - started
    expect([slow.rejected, dark.rejected, ...slow.errors, ...dark.errors]).toEqual([0, 0])
    expect(states).toContain('open')
    // In-process protection: each key refreshed at most once per errorBackoff (500 ms) while the fleet is unreachable.
    for (const key of keys) expect(db.calls.get(key)! - 1).toBeLessThanOrEqual(Math.ceil(darkMs / 500) + 3)
    p.heal()
    await until(() => states.at(-1) === 'closed', 'the breaker closed after the proxy healed')
    // Writes reach the shared tier again.
    await herd.set('after', 'healed')
    const direct = await client(redis.url)
    await until(async () => (await direct.get(`${prefix}{after}:v`)) !== null, 'a write reached Redis')
  })

  it('connections reset under traffic: no fetch rejects', async () => {
    const p = await proxy()
    const herd = await herdThrough(p, uniquePrefix())
    const db = counting()
    const running = traffic(herd, ['x', 'y', 'z', 'w'], db.loader, 60)
    for (let i = 0; i < 4; i++) {
      await sleep(50)
      p.reset()
    }
    const outcome = await running
    expect([outcome.rejected, ...outcome.errors]).toEqual([0])
  })

  it('Redis killed and restarted empty (data loss): no fetch rejects, fences stay monotonic, and a process sees its own set()', async () => {
    const own = await startRedis()
    opened.push(() => own.stop())
    const prefix = uniquePrefix()
    const c = await client(own.url)
    const herd = createHerd({
      ...redisBackend(c, { prefix, commandTimeout: 400 }),
      breaker: { threshold: 2, resetAfter: '300ms' },
      operationTimeout: '500ms',
    })
    opened.unshift(() => herd.close())
    for (let i = 0; i < 5; i++) await herd.set('k', `before ${i}`)
    const lock = redisBackend(c, { prefix }).lock
    const before = await lock.fence('k')
    const db = counting()
    const running = traffic(herd, ['p', 'q', 'r'], db.loader, 30)
    await own.kill()
    await sleep(200)
    await own.restart()
    const outcome = await running
    expect([outcome.rejected, ...outcome.errors]).toEqual([0])
    await until(async () => {
      try {
        return (await lock.fence('k')) > before
      } catch {
        return false
      }
    }, 'a fence after the restart, higher than every one before it')
    await until(async () => {
      await herd.set('k', 'after the loss')
      return (await herd.get('k')) === 'after the loss'
    }, 'its own set() after the loss')
  })

  it('a herd created while Redis stalls keeps subscribing, then hears the fleet', async () => {
    const p = await proxy()
    const prefix = uniquePrefix()
    // The client connected; the network stalls as the herd subscribes (on a connection of its own).
    const c = await client(p.url)
    p.blackhole()
    const late = createHerd({
      ...redisBackend(c, { prefix, commandTimeout: 400 }),
      breaker: { threshold: 2, resetAfter: '300ms' },
      operationTimeout: '500ms',
      local: { ttl: '1h' },
    })
    opened.unshift(() => late.close())
    const db = counting()
    await expect(late.fetch('k', db.loader)).resolves.toBe('k#1') // in-process while the Store can't be reached
    // Past the command timeout: the first subscribe attempts time out. The stalled connections are then dropped
    // (bytes held in them are lost), so only a herd that tries again ends up subscribed.
    await sleep(1_000)
    p.reset()
    p.heal()
    const writer = createHerd({ ...redisBackend(await client(redis.url), { prefix }) })
    opened.unshift(() => writer.close())
    // Once subscribed (and after the breaker closed), a write elsewhere reaches this process's local tier.
    await until(async () => {
      await writer.set('k', 'from the fleet')
      await sleep(50)
      return (await late.fetch('k', db.loader)) === 'from the fleet'
    }, 'the late herd heard the fleet')
  })

  it('undefined inside objects and arrays comes back from Redis as it went in, to another process', async () => {
    const prefix = uniquePrefix()
    const one = createHerd({ ...redisBackend(await client(redis.url), { prefix }) })
    const other = createHerd({ ...redisBackend(await client(redis.url), { prefix }) })
    opened.unshift(
      () => one.close(),
      () => other.close(),
    )
    await one.set('k', { a: undefined, list: [1, undefined, 3] })
    const read = (await other.get('k')) as { a: unknown; list: unknown[] }
    expect(Object.keys(read)).toEqual(['a', 'list'])
    expect(1 in read.list).toBe(true)
  })

  it('callers that give up: an aborted signal runs nothing, and a lease granted after its caller left is released', async () => {
    const p = await proxy()
    const prefix = uniquePrefix()
    const herd = await herdThrough(p, prefix)
    const db = counting()
    await expect(herd.fetch('k', db.loader, { signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone')
    expect(db.total()).toBe(0)
    // The acquire is on the wire when the caller leaves; its lease, granted afterwards, must be given back.
    p.latency(150)
    const leaving = new AbortController()
    const asked = herd.fetch('held', db.loader, { signal: leaving.signal })
    await sleep(50)
    leaving.abort(new Error('left'))
    await expect(asked).rejects.toThrow('left')
    p.heal()
    const other = createHerd({ ...redisBackend(await client(redis.url), { prefix }) })
    opened.unshift(() => other.close())
    await until(
      async () => (await other.inspect('held')).lease !== undefined && ((await other.inspect('held')).lease as { held: boolean }).held === false,
      'the lease was released',
    )
  })

  it("foreign data at herd's keys heals instead of blocking them", async () => {
    const prefix = uniquePrefix()
    const direct = await client(redis.url)
    await direct.hSet(`${prefix}{wrong-type}:v`, 'field', 'not a herd entry')
    await direct.set(`${prefix}{broken-fence}:fence`, 'not a number')
    await direct.set(`${prefix}{stuck}:lock`, 'a lock without expiry')
    const herd = createHerd({ ...redisBackend(direct, { prefix }) })
    opened.unshift(() => herd.close())
    const errors: string[] = []
    herd.on('error', (e) => errors.push(e.source))
    const db = counting()
    for (const key of ['wrong-type', 'broken-fence', 'stuck']) await expect(herd.fetch(key, db.loader)).resolves.toBe(`${key}#1`)
    // Healed: the entries are herd's now, and served from Redis to another herd.
    const other = createHerd({ ...redisBackend(direct, { prefix }) })
    opened.unshift(() => other.close())
    for (const key of ['wrong-type', 'broken-fence', 'stuck']) await expect(other.fetch(key, db.loader)).resolves.toBe(`${key}#1`)
    expect(herd.stats().breaker.state).toBe('closed')
    expect(errors.filter((s) => s !== 'codec')).toEqual([])
  })

  describe('writes and invalidations during an outage (one herd cut off, two processes on the other side)', () => {
    it('the cut-off herd reads its own writes during a 3 s outage; after it, the others read the new state; a later write elsewhere survives the replay; strict calls reject, then resolve', async () => {
      const p = await proxy()
      const prefix = uniquePrefix()
      const cutOff = await herdThrough(p, prefix, { staleWhileRevalidate: '1h', local: { ttl: '1h' } })
      const workers = await spawnWorkers(2, {
        target: { library: 'node-redis 5', topology: 'single' },
        endpoints: { url: redis.url, clusterUrls: [], sentinel: { name: '', nodes: [] } },
        prefix,
        herd: { staleWhileRevalidate: '1h' },
      })
      const call = async (w: number, method: string, ...args: unknown[]) => {
        workers[w]!.send({ cmd: 'call', method, args })
        const reply = await workers[w]!.next<{ ok: boolean; value: unknown; error?: string }>('called')
        if (!reply.ok) throw new Error(reply.error)
        return reply.value
      }
      for (const key of ['deleted', 'set', 'expired', 'contested']) await call(0, 'set', key, `${key}: old`)
      for (const key of ['deleted', 'set', 'expired', 'contested']) await until(async () => (await cutOff.get(key)) === `${key}: old`, `${key} read`)

      p.down()
      const outage = Date.now()
      await cutOff.delete('deleted')
      await cutOff.set('set', 'set: new')
      await cutOff.expire('expired')
      await cutOff.set('contested', 'contested: outage write')
      await expect(cutOff.set('strict', 'x', { strict: true })).rejects.toBeInstanceOf(HerdUnavailableError)
      await expect(cutOff.delete('set', { strict: true })).rejects.toBeInstanceOf(HerdUnavailableError)
      expect(cutOff.stats().recovery.pending).toBe(4)
      // Another process writes the contested key after the outage write: its write must win the replay.
      await sleep(20)
      await call(1, 'set', 'contested', 'contested: written later elsewhere')
      while (Date.now() - outage < 3_000) {
        expect(await cutOff.get('deleted')).toBeUndefined()
        expect(await cutOff.get('set')).toBe('set: new')
        await sleep(250)
      }
      expect(await call(0, 'get', 'set')).toBe('set: old')

      p.heal()
      await until(() => cutOff.stats().recovery.pending === 0, 'the queue replayed')
      expect(cutOff.stats().recovery).toMatchObject({ replayed: 3, superseded: 1, dropped: 0 })
      await until(async () => (await call(0, 'get', 'deleted')) === null, 'the delete reached the others')
      for (const w of [0, 1]) {
        expect(await call(w, 'get', 'deleted')).toBeNull()
        expect(await call(w, 'get', 'set')).toBe('set: new')
        expect(await call(w, 'get', 'contested')).toBe('contested: written later elsewhere')
      }
      await expect(cutOff.set('strict', 'now', { strict: true })).resolves.toBeUndefined()
      await expect(cutOff.delete('strict', { strict: true })).resolves.toBeUndefined()
    }, 60_000)

    it('100,000 keys deleted during an outage keep the queue to its bound, and every drop is reported; close() drops and reports the rest', async () => {
      setFlagsFromString('--expose-gc')
      const gc = runInNewContext('gc') as () => void
      const p = await proxy()
      const herd = await herdThrough(p, uniquePrefix(), { recovery: { maxOperations: 10_000 }, local: { maxSize: 1_000 } })
      let dropped = 0
      herd.on('recovery', (e) => {
        if (e.action === 'dropped') dropped++
      })
      p.down()
      gc()
      const before = process.memoryUsage().heapUsed
      for (let i = 0; i < 100_000; i++) await herd.delete(`k${i}`)
      gc()
      const grown = process.memoryUsage().heapUsed - before
      expect(herd.stats().recovery).toMatchObject({ pending: 10_000, dropped: 90_000 })
      expect(dropped).toBe(90_000)
      expect(grown).toBeLessThan(16 * 1024 * 1024)
      await herd.close()
      expect(dropped).toBe(100_000)
    }, 120_000)
  })
})
