import { tracingChannel } from 'node:diagnostics_channel'
import { type LockContext, createHerd } from '@herd/core'
import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from '@herd/testing/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisBackend } from '../src/index.js'
import {
  type Connected,
  type Endpoints,
  type Target,
  closeConnections,
  clusterUrls,
  connect,
  haveRedis,
  redisUrl,
  sentinel,
  uniquePrefix,
} from './clients.js'
import { type Worker, spawnWorkers } from './fleet.js'

const shared: Endpoints = { url: redisUrl, clusterUrls, sentinel }
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const range = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

// The features on top of the fleet's exactly-once, on one client library (the adapters are the same on every one:
// conformance.test.ts proves that), a single Redis and a 3-master Cluster.
const TARGETS: readonly Target[] = [
  { library: 'node-redis 5', topology: 'single', label: 'node-redis 5, single' },
  { library: 'node-redis 5', topology: 'cluster', label: 'node-redis 5, cluster' },
]

interface FetchedKeys {
  statuses: Record<string, number>
  failed: number
  failures: string[]
  /** What the herd did during the pass (loads, lock calls, writes by outcome), for a failure's message. */
  work: Record<string, unknown>
}

/** Commands Redis ran (INFO commandstats on every master), by name, but INFO's own and the herds' clock readings (TIME, each minute). */
async function commandsRun(redis: Connected): Promise<Map<string, number>> {
  const infos = (await redis.everyMaster(['INFO', 'commandstats'])) as string[]
  const byName = new Map<string, number>()
  for (const info of infos) {
    for (const line of String(info).split('\n')) {
      const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line)
      if (match && !match[1]!.startsWith('info') && match[1] !== 'time') byName.set(match[1]!, (byName.get(match[1]!) ?? 0) + Number(match[2]))
    }
  }
  return byName
}

/** The commands run between two readings of commandsRun: the total, and by name for a failure's message. */
function ranSince(before: Map<string, number>, after: Map<string, number>): { total: number; byName: string } {
  const ran = [...after].map(([name, calls]) => [name, calls - (before.get(name) ?? 0)] as const).filter(([, n]) => n > 0)
  return { total: ran.reduce((n, [, calls]) => n + calls, 0), byName: ran.map(([name, n]) => `${name} ${n}`).join(', ') }
}

/** How many times each key was loaded across the fleet (the workers count in one hash). */
async function loadsPerKey(redis: Connected, counterKey: string): Promise<Map<string, number>> {
  const flat = (await redis.raw(counterKey, ['HGETALL', counterKey])) as string[] | Record<string, string>
  const pairs: Array<[string, string]> = Array.isArray(flat)
    ? flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]!] as [string, string]] : []))
    : Object.entries(flat)
  return new Map(pairs.map(([k, v]) => [k, Number(v)]))
}

function histogram(counts: Map<string, number>): Record<number, number> {
  const out: Record<number, number> = {}
  for (const n of counts.values()) out[n] = (out[n] ?? 0) + 1
  return out
}

async function everyone<T>(workers: Worker[], message: Record<string, unknown>, reply: string): Promise<T[]> {
  for (const w of workers) w.send(message)
  return Promise.all(workers.map((w) => w.next<T>(reply, 120_000)))
}

describe.skipIf(!haveRedis)('tags, fetchMany and the diagnostics channels across real processes', () => {
  // INFO commandstats counts everything a server ran, and the other test files run beside this one on the shared
  // servers: the tests that count commands get a single Redis and a Cluster of their own.
  let own: Endpoints = shared
  let servers: [RedisServer, RedisCluster] | undefined
  beforeAll(async () => {
    servers = await Promise.all([startRedis(), startRedisCluster({ masters: 3 })])
    own = { url: servers[0].url, clusterUrls: servers[1].rootNodes.map((n) => n.url), sentinel }
  }, 60_000)
  afterAll(async () => {
    await closeConnections()
    await Promise.all([servers?.[0].stop(), servers?.[1].stop()])
  })

  for (const target of TARGETS) {
    describe(target.label, () => {
      // A backend call that takes longer than operationTimeout counts as a failure, and the herd then protects the key in
      // this process only: 4 processes firing 1,000 scripts at once on a loaded 2-core machine must not be mistaken for that.
      // Likewise a lease: a pass makes 10,000 keys stale in every process (refreshed 64 at a time, maxConcurrentRefreshes'
      // default), and a starved process can get its acquire's reply (and so start renewing) seconds after Redis granted the lease. A lease that runs out
      // before its holder's first renewal is taken over by another process, which loads the key again: correct for a
      // holder that died, not what this test measures.
      const config = (prefix: string, herd: Record<string, unknown>) => ({
        target,
        endpoints: own,
        prefix,
        herd: { operationTimeout: '10s', lease: '30s', ...herd },
        commandTimeout: 10_000,
      })

      it('tags: 10,000 entries share a tag; expireTags costs a bounded number of commands, then 4 × 250 callers see each key refreshed exactly once fleet-wide; deleteTags and clear() reload each key once', async () => {
        const prefix = uniquePrefix()
        const counterKey = `${prefix}loads`
        const redis = await connect(target, own)
        const keys = range(10_000, 'product:')
        const workers = await spawnWorkers(
          4,
          config(prefix, { ttl: '1h', staleWhileRevalidate: '1h', jitter: 0, beta: 0, local: { ttl: '1h', maxSize: 20_000 } }),
        )
        const pass = (options: Record<string, unknown>) =>
          everyone<FetchedKeys>(workers, { cmd: 'fetchKeys', keys, lanes: 250, counterKey, options }, 'fetchedKeys')
        const tagged = { tags: ['products'] }

        // Fill: every process reads every key; one load per key across the fleet.
        const filled = await pass(tagged)
        expect(filled.map((f) => f.failed)).toEqual([0, 0, 0, 0])
        expect(histogram(await loadsPerKey(redis, counterKey))).toEqual({ 1: 10_000 })

        // expireTags: a handful of commands (the record's fenced write, and the commands inside its script; the Bus
        // message), whatever the number of entries.
        const before = await commandsRun(redis)
        workers[0]!.send({ cmd: 'call', method: 'expireTags', args: [['products']] })
        expect(await workers[0]!.next('called')).toMatchObject({ ok: true })
        const expireRan = ranSince(before, await commandsRun(redis))
        const expireCommands = expireRan.total
        expect(expireCommands, expireRan.byName).toBeLessThanOrEqual(6)

        // 4 × 250 callers over the 10,000 keys: everyone is served (stale inside the window), each key refreshed once.
        const served = await pass(tagged)
        expect(served.map((f) => f.failed)).toEqual([0, 0, 0, 0])
        expect(served.reduce((n, f) => n + (f.statuses.stale ?? 0), 0)).toBeGreaterThan(0)
        // Nobody waited for a load: stale, or already refreshed.
        expect(served.reduce((n, f) => n + (f.statuses.miss ?? 0), 0)).toBe(0)
        const passes = [served, ...(await untilAllFresh(pass, tagged))]
        // On failure, what each process did in each pass (loads by reason, lock calls and writes by outcome).
        const work = passes.map((results, i) => `pass ${i + 1}: ${results.map((r) => JSON.stringify(r.work)).join(' | ')}`).join('\n')
        expect(histogram(await loadsPerKey(redis, counterKey)), work).toEqual({ 2: 10_000 })

        // deleteTags: gone everywhere; the next reads load once per key across the fleet.
        workers[1]!.send({ cmd: 'call', method: 'deleteTags', args: [['products']] })
        expect(await workers[1]!.next('called')).toMatchObject({ ok: true })
        expect((await pass(tagged)).map((f) => f.failed)).toEqual([0, 0, 0, 0])
        expect(histogram(await loadsPerKey(redis, counterKey))).toEqual({ 3: 10_000 })

        // clear(): every entry of the namespace, the same.
        workers[2]!.send({ cmd: 'call', method: 'clear', args: [] })
        expect(await workers[2]!.next('called')).toMatchObject({ ok: true })
        expect((await pass(tagged)).map((f) => f.failed)).toEqual([0, 0, 0, 0])
        expect(histogram(await loadsPerKey(redis, counterKey))).toEqual({ 4: 10_000 })
        console.log(`[${target.label}: tags] expireTags of 10,000 entries ran ${expireCommands} Redis commands`)
      }, 240_000)

      it('fetchMany: 4 processes ask for the same 1,000 cold ids at once; each id is loaded exactly once fleet-wide, in batches', async () => {
        const prefix = uniquePrefix()
        const counterKey = `${prefix}loads`
        const redis = await connect(target, own)
        const ids = range(1_000, 'user:')
        const workers = await spawnWorkers(4, config(prefix, { ttl: '1h', jitter: 0, beta: 0 }))
        const before = await commandsRun(redis)
        const results = await everyone<{ batches: number[]; wrong: number; first?: string }>(
          workers,
          { cmd: 'fetchManyKeys', keys: ids, callers: 1, counterKey, loaderMs: 50 },
          'fetchedMany',
        )
        const commands = ranSince(before, await commandsRun(redis)).total
        expect(results.map((r) => [r.wrong, r.first])).toEqual(Array(4).fill([0, undefined]))
        expect(histogram(await loadsPerKey(redis, counterKey))).toEqual({ 1: 1_000 })
        const batches = results.flatMap((r) => r.batches)
        expect(batches.reduce((a, b) => a + b, 0)).toBe(1_000)
        // The counting itself (HINCRBY per id, INCR per batch) is part of what Redis ran: take it off.
        const herdCommands = commands - 1_000 - batches.length - 2
        console.log(
          `[${target.label}: fetchMany 4 × 1,000 cold ids] loader calls ${batches.length} (sizes ${batches.join(', ')}); Redis commands per process ${(herdCommands / 4).toFixed(0)} (${(herdCommands / 4 / 1_000).toFixed(2)} per id)`,
        )
      }, 120_000)
    })
  }

  it('herd:lock reports a wait for a holder in another process, with how long it waited', async () => {
    const target = TARGETS[0]!
    const prefix = uniquePrefix()
    const [holder] = await spawnWorkers(1, { target, endpoints: shared, prefix, herd: { lease: '10s' } })
    const redis = await connect(target)
    const herd = createHerd({ ...redisBackend(redis.client, { prefix }) })
    const seen: LockContext[] = []
    const handlers = { start() {}, end() {}, asyncStart() {}, asyncEnd: (c: unknown) => seen.push({ ...(c as LockContext) }), error() {} }
    tracingChannel('herd:lock').subscribe(handlers)
    try {
      holder!.send({ cmd: 'fetch', key: 'held', callers: 1, loaderMs: 300, counterKey: `${prefix}n`, value: 'from the holder', announce: true })
      await holder!.next('loading')
      await expect(herd.fetch('held', async () => 'never')).resolves.toBe('from the holder')
      await holder!.next('fetched')
      const mine = seen.filter((c) => c.herd === herd.id)
      expect(mine.map((c) => `${c.operation}:${c.outcome}`)).toEqual(['acquire:busy', 'wait:released'])
      expect(mine[1]!.waitedMs).toBeGreaterThan(0)
    } finally {
      tracingChannel('herd:lock').unsubscribe(handlers)
      await herd.close()
    }
  })
})

/** Passes until every process answers every key fresh: the background refreshes have all landed. Bounded. Each pass's results. */
async function untilAllFresh(
  pass: (options: Record<string, unknown>) => Promise<FetchedKeys[]>,
  options: Record<string, unknown>,
): Promise<FetchedKeys[][]> {
  const passes: FetchedKeys[][] = []
  for (let round = 0; round < 30; round++) {
    const results = await pass(options)
    passes.push(results)
    if (results.every((r) => r.failed === 0 && (r.statuses.stale ?? 0) === 0 && (r.statuses.miss ?? 0) === 0)) return passes
    // The processes that stepped back from a busy refresh hold the key off for up to a second.
    await sleep(500)
  }
  throw new Error('the refreshes never all landed')
}
