/**
 * Proves every suite still runs, in tiny settings that take seconds. These
 * are counts, never timings: a benchmark's numbers belong in its report, and
 * a shared CI machine can't be asked to be fast. Redis-dependent suites
 * follow the project rule: skipped loudly without redis-server, a failure
 * with HERD_REQUIRE_REDIS=1.
 */
import { redisReady } from '@herd/testing/redis-server'
import { beforeAll, describe, expect, it } from 'vitest'
import { setQuiet } from '../src/lib/progress.js'
import { fleet } from '../src/suites/fleet.js'
import { hotPath } from '../src/suites/hot-path.js'
import { http } from '../src/suites/http.js'
import { many, type ColdSample } from '../src/suites/many.js'
import { memory } from '../src/suites/memory.js'
import { stampede } from '../src/suites/stampede.js'
import { swr } from '../src/suites/swr.js'
import { xfetch } from '../src/suites/xfetch.js'

beforeAll(() => setQuiet(true))

type Samples<T> = Record<string, T[]>

describe('suite 1, stampede (smoke)', () => {
  it('herd makes exactly one loader call; the naive cache-aside makes one per caller', async () => {
    const result = await stampede.run({ smoke: true })
    const data = result.data as Record<number, Samples<{ loaderCalls: number; errors: number }>>
    expect(data[100]!.herd![0]!.loaderCalls).toBe(1)
    expect(data[100]!['naive cache-aside']![0]!.loaderCalls).toBe(100)
    for (const samples of Object.values(data[100]!)) expect(samples[0]!.errors).toBe(0)
    expect(result.tables).toHaveLength(1)
  })
})

describe('suite 3, stale-while-revalidate (smoke)', () => {
  it('herd refreshes once and answers every caller', async () => {
    const result = await swr.run({ smoke: true })
    const data = result.data as Samples<{ refreshes: number; errors: number }>
    expect(data.herd![0]!.refreshes).toBe(1)
    expect(data.herd![0]!.errors).toBe(0)
  })
})

describe('suite 4, XFetch over time (smoke)', () => {
  it('runs every variant; beta 0 never refreshes early', async () => {
    const result = await xfetch.run({ smoke: true })
    const data = result.data as Samples<{ callers: number; earlyRefreshes: number }>
    expect(Object.keys(data)).toHaveLength(5)
    for (const samples of Object.values(data)) expect(samples[0]!.callers).toBeGreaterThan(0)
    expect(data['herd beta 0 (no early refresh)']![0]!.earlyRefreshes).toBe(0)
  })
})

describe('suite 7, memory (smoke)', () => {
  it('retains no more than the local tier bound', async () => {
    const result = await memory.run({ smoke: true })
    const data = result.data as Record<string, { valuesRetained: number; localSize: number; keysDone: number; flights: number }>
    const local = Object.entries(data).find(([name]) => name.startsWith('herd, local tier only'))![1]
    expect(local.keysDone).toBe(20_000)
    expect(local.localSize).toBeLessThanOrEqual(1_000)
    expect(local.valuesRetained).toBeLessThanOrEqual(2_000)
    expect(local.flights).toBe(0)
  })
})

describe('suite 5, hot path (smoke)', () => {
  it('measures every contender against the floor', async () => {
    const result = await hotPath.run({ smoke: true })
    const local = (result.data as { local: Record<string, number[]> }).local
    expect(Object.keys(local)).toContain('floor: await quickLru.get()')
    expect(Object.keys(local)).toContain('herd')
    for (const ops of Object.values(local)) expect(ops[0]).toBeGreaterThan(0)
  })
})

describe('suite 6, HTTP (smoke)', () => {
  it('serves every variant; herdCache runs the handler once for a burst on an expired route', async () => {
    const result = await http.run({ smoke: true })
    const data = result.data as { load: Samples<{ rps: number; non2xx: number }>; burst: Samples<{ handlerCalls: number; failed: number }> }
    for (const samples of Object.values(data.load)) {
      expect(samples[0]!.rps).toBeGreaterThan(0)
      expect(samples[0]!.non2xx).toBe(0)
    }
    expect(data.burst['@herd/express']![0]!.handlerCalls).toBe(1)
    expect(data.burst['@herd/koa']![0]!.handlerCalls).toBe(1)
    expect(data.burst['bare Express']![0]!.handlerCalls).toBe(50)
    for (const samples of Object.values(data.burst)) expect(samples[0]!.failed).toBe(0)
  })
})

describe('suite 8, many keys (smoke)', () => {
  it('100 cold keys: herd fetchMany, herd.batch and cachified createBatch make one loader call; one fetch per key makes 100', async () => {
    const result = await many.run({ smoke: true })
    const data = result.data as { cold: Samples<ColdSample>; hits: Record<string, number[]>; redis: { cold?: Samples<ColdSample> } }
    const cold = (name: string) => data.cold[name]![0]!
    expect(cold('herd fetchMany').loaderCalls).toBe(1)
    expect(cold('herd batch').loaderCalls).toBe(1)
    // cachified's README: getFreshValues is invoked once, with every id the cache did not hold.
    expect(cold('cachified createBatch').loaderCalls).toBe(1)
    expect(cold('herd fetch per key').loaderCalls).toBe(100)
    expect(cold('cachified per key').loaderCalls).toBe(100)
    for (const samples of Object.values(data.cold)) {
      expect(samples[0]!.keysLoaded).toBe(100)
      expect(samples[0]!.errors).toBe(0)
    }
    // Hits: every way was measured, and none called a loader (that throws and fails the run).
    expect(Object.keys(data.hits)).toHaveLength(5)
    for (const ops of Object.values(data.hits)) expect(ops[0]).toBeGreaterThan(0)
    if (redisReady()) {
      expect(data.redis.cold!['herd fetchMany']![0]!.loaderCalls).toBe(1)
      expect(data.redis.cold!['herd fetch per key']![0]!.loaderCalls).toBe(100)
    }
  })
})

describe.skipIf(!redisReady())('suites 2 and 5 on a real redis-server (smoke)', () => {
  it('suite 2: one loader call across 4 processes; 8 processes × 50 cold keys: one load per key, at most 3 commands per key per process', async () => {
    const result = await fleet.run({ smoke: true })
    const data = result.data as {
      stampede: Samples<{ loaderCalls: number; errors: number }>
      coldKeys: Record<string, { loaderCalls: number; perKeyPerProcess: number; errors: number }>
    }
    expect(data.stampede.herd![0]!.loaderCalls).toBe(1)
    expect(data.stampede.herd![0]!.errors).toBe(0)
    expect(data.stampede['naive cache-aside']![0]!.loaderCalls).toBe(200)
    // Part B: 8 processes × 50 cold keys at once: each key loaded once, at most 3 commands per key per process.
    expect(data.coldKeys.herd).toMatchObject({ loaderCalls: 50, errors: 0 })
    expect(data.coldKeys.herd!.perKeyPerProcess).toBeLessThanOrEqual(3)
    // The naive cache-aside ran too; how many of its processes load a key depends on timing, so its count isn't asserted.
    expect(data.coldKeys['naive cache-aside']).toMatchObject({ errors: 0 })
  })

  it('suite 5: a shared-tier hit is one round trip; a local-tier hit is none', async () => {
    const result = await hotPath.run({ smoke: true, only: ['herd'] })
    const trips = result.tables.find((t) => t.title.startsWith('C.'))!
    const row = (name: string) => trips.rows.find((r) => String(r[0]).startsWith(name))!
    expect(row('herd, shared tier only')[1]).toBe('1.00')
    expect(row('herd, default')[1]).toBe('0.00')
  })
})
