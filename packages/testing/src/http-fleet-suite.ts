/**
 * The fleet half of the behaviour suite: two real server processes of a
 * binding, one real redis-server. Non-negotiable 1 of DESIGN.md for HTTP
 * (one handler run across processes), plus invalidation on a write and a
 * failing leader across processes. The binding supplies a fixture server
 * (it gets `{ framework, redisUrl, prefix }` as its argument, imports its
 * binding by package name, and serves /hot, /private, /swr, /items/1,
 * /catalog, /down and /stats); it runs on the sources (forkSource).
 */
import type { ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { counter, eventually, get, sleep, times } from './http-harness.js'
import { redisReady, startRedis, type RedisServer } from './redis-server.js'
import { forkSource } from './source-process.js'

export interface FleetSuiteOptions {
  /** 'two Koa servers'. */
  title: string
  /** Path of the fixture server module. */
  fixture: string
  /** Framework versions: a name and the module the fixture imports ('koa', 'koa2'). */
  versions: ReadonlyArray<readonly [name: string, module: string]>
}

// What a load balancer in front of the fleet sends: one Host for every process.
const host = { host: 'api.example.test' }

async function startServer(fixture: string, config: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = forkSource(fixture, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port))
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
  })
  return { url: `http://127.0.0.1:${port}`, child }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3_000)
    child.once('exit', () => {
      clearTimeout(kill)
      resolve()
    })
    child.send({ cmd: 'exit' })
  })
}

export function httpFleetSuite(options: FleetSuiteOptions): void {
  describe.skipIf(!redisReady())(`across processes (${options.title}, one Redis)`, () => {
    let redis: RedisServer
    beforeAll(async () => {
      redis = await startRedis()
    })
    afterAll(async () => {
      await redis?.stop()
    })

    for (const [name, framework] of options.versions) {
      it(`${name}: one handler run across processes; writes invalidate everywhere; a failing leader runs at most twice per process`, async () => {
        const prefix = `x${Math.random().toString(36).slice(2)}:`
        const config = { framework, redisUrl: redis.url, prefix }
        const servers = await Promise.all([startServer(options.fixture, config), startServer(options.fixture, config)])
        try {
          const responses = await Promise.all(times(60, (i) => get(`${servers[i % 2]!.url}/hot?page=1`, { headers: host })))
          expect(Number(await redis.command('GET', `${prefix}handler-runs`))).toBe(1)
          expect(new Set(responses.map((r) => r.text)).size).toBe(1)
          for (const r of responses) expect(r.status).toBe(200)
          const statuses = counter(responses.map((r) => r.headers['x-cache']))
          expect(statuses.MISS).toBe(1)
          expect(statuses.HIT).toBe(59)
          // The other process serves the stored response too, from the shared Store.
          const fromOther = await get(`${servers[1]!.url}/hot?page=1`, { headers: host })
          expect(fromOther.text).toBe(responses[0]!.text)
          expect(Number(await redis.command('GET', `${prefix}handler-runs`))).toBe(1)

          // A private response never crosses users or processes: every request ran its own handler.
          const priv = await Promise.all(times(20, (i) => get(`${servers[i % 2]!.url}/private`, { headers: { ...host, 'x-user': String(i) } })))
          priv.forEach((r, i) => expect(r.text).toBe(`for ${i}`))
          expect(Number(await redis.command('GET', `${prefix}private-runs`))).toBe(20)

          // A stale hit is served at once everywhere and refreshed once across the fleet.
          expect((await get(`${servers[0]!.url}/swr`, { headers: host })).text).toBe('v1')
          await sleep(1_100)
          const stale = await Promise.all(times(40, (i) => get(`${servers[i % 2]!.url}/swr`, { headers: host })))
          for (const r of stale) expect(r.text).toBe('v1')
          await redis.command('SET', `${prefix}release`, '1')
          await eventually(async () => ((await get(`${servers[1]!.url}/swr`, { headers: host })).text === 'v2' ? true : undefined))
          await sleep(300)
          expect(Number(await redis.command('GET', `${prefix}swr-runs`))).toBe(2)

          // A successful write through one process invalidates the URL in the other (Store and local tier, over the Bus).
          expect((await get(`${servers[0]!.url}/items/1`, { headers: host })).text).toBe('item 1 v0')
          const cached = await get(`${servers[1]!.url}/items/1`, { headers: host })
          expect([cached.text, cached.headers['x-cache']]).toEqual(['item 1 v0', 'HIT'])
          expect((await get(`${servers[0]!.url}/items/1`, { method: 'POST', headers: host })).text).toBe('saved')
          await eventually(async () => ((await get(`${servers[1]!.url}/items/1`, { headers: host })).text === 'item 1 v1' ? true : undefined), 20_000)

          // A route tagged through its response header: the header never reaches the client, and expireTags in one process
          // turns it stale in the other, where it is served once more and refreshed once.
          const tagged = await get(`${servers[0]!.url}/catalog`, { headers: host })
          expect([tagged.text, tagged.headers['cache-tag']]).toEqual(['catalog v1', undefined])
          const taggedHit = await get(`${servers[1]!.url}/catalog`, { headers: host })
          expect([taggedHit.text, taggedHit.headers['x-cache'], taggedHit.headers['cache-tag']]).toEqual(['catalog v1', 'HIT', undefined])
          expect((await get(`${servers[1]!.url}/catalog/expire`, { method: 'POST', headers: host })).text).toBe('expired')
          await eventually(async () => ((await get(`${servers[0]!.url}/catalog`, { headers: host })).text === 'catalog v2' ? true : undefined), 20_000)
          await eventually(async () => ((await get(`${servers[1]!.url}/catalog`, { headers: host })).text === 'catalog v2' ? true : undefined), 20_000)
          expect(Number(await redis.command('GET', `${prefix}catalog-runs`))).toBe(2)

          // 100 requests over both processes wait on a leader that fails: at most two runs per process, never one per request.
          const coalesced = async () => {
            const stats = await Promise.all(servers.map(async (s) => JSON.parse((await get(`${s.url}/stats`)).text) as { coalesced: number }))
            return stats[0]!.coalesced + stats[1]!.coalesced
          }
          const before = await coalesced()
          let answered = 0
          const down = Promise.all(times(100, (i) => get(`${servers[i % 2]!.url}/down`, { headers: host }).finally(() => answered++)))
          // Every request joined a flight: one leader per process, the other 98 coalesced behind them.
          await eventually(async () => ((await coalesced()) - before >= 98 ? true : undefined), 25_000)
          await redis.command('SET', `${prefix}down-release`, '1')
          const failed = await down
          expect(answered).toBe(100)
          for (const r of failed) expect(r.status).toBe(500)
          expect(Number(await redis.command('GET', `${prefix}down-runs`))).toBeLessThanOrEqual(4)
        } finally {
          await Promise.all(servers.map((s) => stop(s.child)))
        }
        // Two processes, a Redis and five scenarios: generous on a loaded machine (the waits inside are bounded polls).
      }, 90_000)
    }
  })
}
