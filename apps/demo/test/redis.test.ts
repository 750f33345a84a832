import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { redisReady, startRedis, type RedisServer } from '@herd/testing/redis-server'
import { sourceExecArgv } from '@herd/testing/source-process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call } from './helpers.js'

const DEMO_DIR = fileURLToPath(new URL('..', import.meta.url))

/**
 * The demo as a user runs it with REDIS_URL and --workers 2: a real
 * redis-server, a cluster primary and two worker processes sharing the port.
 * Skips loudly without redis-server (fails instead with HERD_REQUIRE_REDIS=1).
 */
describe.skipIf(!redisReady())('REDIS_URL with two worker processes', () => {
  let redis: RedisServer
  let demo: ChildProcess | undefined
  let base = ''
  let output = ''

  beforeAll(async () => {
    redis = await startRedis()
    // From source through tsx; the cluster workers inherit the flags.
    demo = spawn(process.execPath, [...sourceExecArgv, 'src/cli.ts', '--workers', '2', '--port', '0'], {
      cwd: DEMO_DIR,
      env: { ...process.env, REDIS_URL: redis.url, DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    // Should this test process die before afterAll, the demo (and through it its workers) goes too.
    process.once('exit', () => demo?.kill('SIGKILL'))
    base = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk
        const url = /dashboard\s+(http:\/\/\S+?)\/\s/.exec(output)?.[1]
        if (url) resolve(url)
      }
      demo!.stdout!.on('data', onData)
      demo!.stderr!.on('data', onData)
      demo!.once('exit', (code) => reject(new Error(`the demo exited (${code}) before it was ready:\n${output}`)))
    })
  })

  afterAll(async () => {
    if (demo && demo.exitCode === null && demo.signalCode === null) {
      const exited = new Promise((resolve) => demo!.once('exit', resolve))
      demo.kill('SIGTERM') // the primary stops its workers, then itself
      const timer = setTimeout(() => demo!.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    await redis?.stop()
  })

  const burst = (json: object) => call(`${base}/api/burst`, { json })

  it('coalesces a burst across both processes: one query for the whole fleet', async () => {
    for (const mode of ['cold', 'expired']) {
      const { status, body } = await burst({ protect: true, mode, count: 200 })
      expect(status).toBe(200)
      expect(body).toMatchObject({ ok: 200, failed: 0, queries: 1 })
      // node:cluster spread the requests over both workers, each with its own herd: the Redis lock made it one query.
      const served = Object.values(body.servedBy as Record<string, number>)
      expect(served).toHaveLength(2)
      for (const n of served) expect(n).toBeGreaterThan(0)
    }
  })

  it('without herd the same burst runs the query many times over', async () => {
    const { body } = await burst({ protect: false, count: 200 })
    expect(body.ok).toBe(200)
    expect(body.queries).toBeGreaterThanOrEqual(10)
  })

  it('a write through one process is read by the other at once (shared store, invalidation bus)', async () => {
    const id = 31
    // Cache the product in both workers' local tiers first.
    for (let i = 0; i < 6; i++) expect((await call(`${base}/api/products/${id}`)).status).toBe(200)
    const put = await call(`${base}/api/products/${id}`, { method: 'PUT', json: { name: 'Renamed across the fleet' } })
    expect(put.status).toBe(200)
    const pids = new Set<string>()
    for (let i = 0; i < 6; i++) {
      const read = await call(`${base}/api/products/${id}`)
      pids.add(read.headers.get('x-served-by')!)
      expect(read.body.name).toBe('Renamed across the fleet')
    }
    expect(pids.size).toBe(2)
  })
})
