import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type RedisServer, redisReady, startRedis } from '@herd/testing/redis-server'
import { forkSource, type WatchedOutput, watchOutput } from '@herd/testing/source-process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, sampleFiles } from './readme-samples.js'

const RUNNER = fileURLToPath(new URL('./fixtures/run-sample.ts', import.meta.url))

/** Samples that are type-checked but not run, and why. */
const NOT_RUN: Record<string, string> = {
  'docs/samples/src/redis-cluster.ts': 'its cluster addresses are placeholders',
  'docs/samples/src/redis-sentinel.ts': 'its Sentinel addresses are placeholders',
  'docs/samples/src/testing-conformance.ts': 'a vitest file: its suites run in packages/memory and packages/redis',
  'docs/samples/src/testing-fused.ts': "a vitest file: the suite runs in packages/redis, on redisBackend's lock",
  'docs/samples/src/testing-http-suite.ts': 'a vitest file: the suite runs in packages/express, packages/koa and packages/http',
  'docs/samples/src/contract-store.ts': 'type declarations: test/contracts.ts checks them against @herd/core',
  'docs/samples/src/contract-lock.ts': 'type declarations: test/contracts.ts checks them against @herd/core',
  'docs/samples/src/contract-fused-lock.ts': 'type declarations: test/contracts.ts checks them against @herd/core',
  'docs/samples/src/contract-bus.ts': 'type declarations: test/contracts.ts checks them against @herd/core',
  'docs/samples/src/contract-codec.ts': 'type declarations: test/contracts.ts checks them against @herd/core',
  'docs/samples/src/contract-store-suite.ts': 'a vitest file: storeSuite runs in packages/memory and packages/redis',
  'docs/samples/src/contract-lock-suite.ts': 'a vitest file: lockSuite runs in packages/memory and packages/redis',
  'docs/samples/src/contract-bus-suite.ts': 'a vitest file: busSuite runs in packages/memory and packages/redis',
  'packages/otel/examples/prometheus.ts': "@herd/otel's example: type-checked and run by @herd/otel's tests",
}

function run(files: string[], redisUrl: string, env: Record<string, string> = {}): WatchedOutput & { child: ChildProcess } {
  const child = forkSource(
    RUNNER,
    files.map((file) => join(ROOT, file)),
    { cwd: join(ROOT, 'docs/samples'), env: { ...process.env, REDIS_URL: redisUrl, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  )
  return { child, ...watchOutput(child) }
}

function message(child: ChildProcess, type: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type?: string }) => {
      if (m?.type !== type) return
      child.off('message', onMessage)
      resolve()
    }
    child.on('message', onMessage)
    child.once('exit', (code) => reject(new Error(`the sample exited (${code}) before "${type}"`)))
  })
}

describe.skipIf(!redisReady())('README samples, run against a real redis-server', () => {
  let redis: RedisServer
  const live = new Set<ChildProcess>()
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    for (const child of live) child.kill('SIGKILL')
    await redis?.stop()
  })

  const runnable = sampleFiles().filter((file) => !(file in NOT_RUN))

  it('runs every sample but the ones that cannot run here', () => {
    expect(runnable.length).toBeGreaterThanOrEqual(15)
  })

  // One process runs them all in turn (one start-up instead of sixteen on a busy machine).
  let all: (WatchedOutput & { child: ChildProcess }) | undefined
  const ranAll = () => {
    all ??= run(runnable, redis.url)
    live.add(all.child)
    return all
  }

  it.each(runnable)('%s runs to its end', async (file) => {
    const samples = ranAll()
    await samples.exit
    expect(samples.output(), samples.output()).toContain(`ran ${join(ROOT, file)}`)
  })

  it('the process that ran them exits 0', async () => {
    const { code } = await ranAll().exit
    expect(code, ranAll().output()).toBe(0)
  })

  it("the root README's Redis sample survives redis-server being killed and restarted while it loads", async () => {
    await redis.command('FLUSHALL') // the sample's key was cached by its first run: it must load this time
    const sample = run(['docs/samples/src/readme-redis.ts'], redis.url, { SAMPLE_HOLD_LOADER: '1' })
    live.add(sample.child)
    await message(sample.child, 'loading')
    await redis.kill()
    // The client's 'error' event reached the sample's listener: without one, this is where the process dies.
    await sample.printed('redis: ')
    await redis.restart()
    sample.child.send({ type: 'go' })
    const { code } = await sample.exit
    expect(sample.output()).toContain(`ran ${join(ROOT, 'docs/samples/src/readme-redis.ts')}`)
    expect(sample.output()).not.toContain('Unhandled')
    expect(code, sample.output()).toBe(0)
  })
})
