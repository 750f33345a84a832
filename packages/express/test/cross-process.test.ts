import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisReady, startRedis, type RedisServer } from '@herd/testing/redis-server'
import { forkSource } from '@herd/testing/source-process'
import { counter, eventually, get, sleep, times } from '@herd/testing/http-harness'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))
// What a load balancer in front of the fleet sends: one Host for every process.
const host = { host: 'api.example.test' }

async function startServer(config: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = forkSource(here('./fixtures/server.mjs'), [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
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

// Non-negotiable 1 of DESIGN.md for HTTP: two real server processes, one real redis-server.
describe.skipIf(!redisReady())('across processes (two Express servers, one Redis)', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await redis?.stop()
  })

  for (const [name, pkg] of [
    ['Express 5', 'express'],
    ['Express 4', 'express4'],
  ] as const) {
    it(`${name}: concurrent requests spread over both processes run the handler once in total`, async () => {
      const prefix = `x${Math.random().toString(36).slice(2)}:`
      const config = { express: pkg, redisUrl: redis.url, prefix }
      const servers = await Promise.all([startServer(config), startServer(config)])
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
      } finally {
        await Promise.all(servers.map((s) => stop(s.child)))
      }
    })
  }
})
