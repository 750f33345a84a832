/**
 * Suite 5 — the hot path, where a cache spends nearly all its life.
 * A. Local-tier hit: sequential `await cache.get(key)` on warm keys, ops/s,
 *    against the floor: a raw `await quickLru.get(key)` (the LRU herd's
 *    local tier is built on), and against every peer's equivalent call.
 * B. Shared-tier (Redis) hit with no local tier: latency of one hit against
 *    a bare node-redis GET of the same bytes.
 * C. Redis round trips per hit and per miss, from MONITOR (commands clients
 *    sent) and INFO commandstats (commands the server ran, Lua's included).
 *
 * Every loop is compiled separately (new Function) so each contender gets
 * its own monomorphic call site, and rounds interleave the contenders in a
 * shuffled order so drift on a shared machine spreads evenly.
 */
import { redisReady, startRedis, type RedisServer } from '@herd/testing/redis-server'
import { createClient } from 'redis'
import { IN_PROCESS, type CacheInstance } from '../contenders/memory.js'
import { REDIS_CONTENDERS, bentocacheRedis, cacheManagerRedis, herdRedis, naiveRedis, type RedisContender } from '../contenders/redis.js'
import { row } from '../lib/db.js'
import { opsPerSec, ratio, us } from '../lib/format.js'
import { progress, type Progress } from '../lib/progress.js'
import { COUNTING_OWN, Monitor, diff, omit, parseCommandStats, summarize, total } from '../lib/redis-count.js'
import type { Table, TargetCheck } from '../lib/report.js'
import { median, pairedSlowdown } from '../lib/stats.js'
import { begin } from '../lib/suite-result.js'
import { measure, type Runner } from '../lib/throughput.js'
import QuickLRU from 'quick-lru'
import type { RunOptions, Suite } from './types.js'

type Loop = (target: unknown, keys: readonly string[], n: number, load: (key: string) => unknown) => Promise<void>

/**
 * A fresh function per contender: its own feedback vector, so no contender
 * pays for another's shapes. `body` calls the library directly (see
 * CacheInstance.direct) with `k`, `target` and `load` in scope.
 */
function compile(body: string): Loop {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('target', 'keys', 'n', 'load', `return (async () => { for (let i = 0; i < n; i++) { const k = keys[i & 127]; ${body} } })()`) as Loop
}

const neverCalled = (key: string) => {
  throw new Error(`hot path: the loader ran for ${key}; every key should be warm`)
}

const KEYS = Array.from({ length: 128 }, (_, i) => `user:${i}`)

async function localTier(options: RunOptions, rounds: number, p: Progress) {
  const targetMs = options.smoke ? 20 : 250
  const floorLru = new QuickLRU<string, unknown>({ maxSize: 10_000 })
  for (const k of KEYS) floorLru.set(k, row(k, 1))
  const floorLoop = compile('await target.get(k)')
  const runners: Runner[] = [{ name: 'floor: await quickLru.get()', run: (n) => floorLoop(floorLru, KEYS, n, neverCalled) }]
  const instances: CacheInstance[] = []
  const contenders = IN_PROCESS.filter((c) => !options.only || options.only.includes(c.name))
  for (const c of contenders) {
    const instance = c.create({ ttlMs: 3_600_000, staleMs: 0, load: async (k) => row(k, 1) })
    instances.push(instance)
    for (const k of KEYS) await instance.get(k)
    const loop = compile(instance.direct.body)
    runners.push({ name: c.name, run: (n) => loop(instance.direct.target, KEYS, n, neverCalled) })
  }
  try {
    return { samples: await measure(runners, rounds, targetMs, p, 'local hit'), contenders }
  } finally {
    for (const i of instances) await i.close()
  }
}

async function sharedTier(server: RedisServer, options: RunOptions, rounds: number, p: Progress) {
  const targetMs = options.smoke ? 20 : 100
  const client = await createClient({ url: server.url }).connect()
  const value = JSON.stringify(row('user:0', 1))
  for (const k of KEYS) await client.set(`bare:${k}`, value)
  const bareKeys = KEYS.map((k) => `bare:${k}`)
  const bareLoop = compile('await target.get(k)')
  const parseLoop = compile('JSON.parse(await target.get(k))')
  const coalescing = coalescingFloor(client)
  const coalescingLoop = compile('await target.get(k)')
  const runners: Runner[] = [
    { name: BARE, run: (n) => bareLoop(client, bareKeys, n, neverCalled) },
    // What any cache that hands back objects must do at least: the GET, then a JSON.parse.
    { name: PARSE, run: (n) => parseLoop(client, bareKeys, n, neverCalled) },
    { name: COALESCING, run: (n) => coalescingLoop(coalescing, bareKeys, n, neverCalled) },
  ]
  const instances: CacheInstance[] = []
  const contenders = [herdRedis, bentocacheRedis, cacheManagerRedis, naiveRedis].filter((c) => !options.only || options.only.includes(c.name))
  for (const c of contenders) {
    const instance = await c.create({ url: server.url, ttlMs: 3_600_000, staleMs: 0, load: async (k) => row(k, 1), local: false })
    instances.push(instance)
    for (const k of KEYS) await instance.get(k)
    const loop = compile(instance.direct.body)
    runners.push({ name: c.name, run: (n) => loop(instance.direct.target, KEYS, n, neverCalled) })
  }
  try {
    return { samples: await measure(runners, rounds, targetMs, p, 'redis hit'), contenders }
  } finally {
    for (const i of instances) await i.close()
    await client.quit()
  }
}

const BARE = 'floor: bare node-redis GET'
const PARSE = 'floor + JSON.parse'
const COALESCING = 'floor: one read per key in flight'

/**
 * The least a cache that coalesces concurrent reads of a key does on a hit:
 * a Map of the reads in flight, the GET, a JSON.parse. No entry format, no
 * freshness check, no timeout or breaker: what herd's single flight costs
 * before anything of herd's own.
 */
function coalescingFloor(client: { get(key: string): Promise<string | null> }) {
  const inFlight = new Map<string, Promise<unknown>>()
  return {
    get(key: string): Promise<unknown> {
      let read = inFlight.get(key)
      if (read === undefined) {
        read = client.get(key).then(
          (raw) => {
            inFlight.delete(key)
            return JSON.parse(raw!) as unknown
          },
          (error: unknown) => {
            inFlight.delete(key)
            throw error
          },
        )
        inFlight.set(key, read)
      }
      return read
    },
  }
}

interface TripRow {
  name: string
  hit: number
  miss: number
  hitServer: number
  missServer: number
  hitCommands: string
  missCommands: string
}

async function roundTrips(server: RedisServer, options: RunOptions, p: Progress): Promise<TripRow[]> {
  const n = options.smoke ? 10 : 100
  const variants: Array<{ name: string; contender: RedisContender; local: boolean }> = [
    { name: 'herd, shared tier only (local: false)', contender: herdRedis, local: false },
    { name: 'herd, default (local tier 5 s + Redis)', contender: herdRedis, local: true },
    { name: 'bentocache, L2 only', contender: bentocacheRedis, local: false },
    { name: 'bentocache, L1 + L2 + bus', contender: bentocacheRedis, local: true },
    { name: 'cache-manager (@keyv/redis)', contender: cacheManagerRedis, local: false },
    { name: 'naive cache-aside', contender: naiveRedis, local: false },
  ].filter((v) => !options.only || options.only.includes(v.contender.name))
  const monitor = await Monitor.start(server.url)
  const stats = async () => parseCommandStats(String(await server.command('INFO', 'commandstats')))
  const rows: TripRow[] = []
  try {
    for (const v of variants) {
      p.step(`round trips: ${v.name}`)
      await server.command('FLUSHALL')
      const instance = await v.contender.create({ url: server.url, ttlMs: 3_600_000, staleMs: 0, load: async (k) => row(k, 1), local: v.local })
      try {
        await instance.get('hot') // the hit path's key, filled
        await instance.get('hot')
        await monitor.take()
        let before = await stats()
        for (let i = 0; i < n; i++) await instance.get('hot')
        const hit = await monitor.take()
        const hitServer = diff(await stats(), before)
        before = await stats()
        await monitor.take()
        for (let i = 0; i < n; i++) await instance.get(`cold:${i}`)
        const miss = await monitor.take()
        const missServer = diff(await stats(), before)
        const except = COUNTING_OWN
        rows.push({
          name: v.name,
          hit: total(hit.client, except) / n,
          miss: total(miss.client, except) / n,
          hitServer: total(hitServer, except) / n,
          missServer: total(missServer, except) / n,
          hitCommands: summarize(omit(hit.client, except), n),
          missCommands: summarize(omit(miss.client, except), n),
        })
      } finally {
        await instance.close()
      }
    }
  } finally {
    await monitor.stop()
  }
  return rows
}

export const hotPath: Suite = {
  name: 'hotpath',
  aliases: ['5', 'hot-path', 'hit'],
  title: '5. Hot path: hits, local and shared',
  async run(options: RunOptions) {
    const clock = begin(this.name, this.title)
    const rounds = options.rounds ?? (options.smoke ? 1 : 7)
    const p = progress(this.name)
    const tables: Table[] = []
    const targets: TargetCheck[] = []
    const notes: string[] = []
    const configs: Array<{ name: string; config: string }> = []

    const local = await localTier(options, rounds, p)
    const FLOOR = 'floor: await quickLru.get()'
    const ops = (name: string) => median(local.samples[name]!)
    // Ratios round by round, as in B: each sample against the other's in the same round.
    const slower = (name: string, than: string) => pairedSlowdown(local.samples, name, than)
    tables.push({
      title: `A. Local-tier hit, sequential awaits on 128 warm keys (${rounds} interleaved rounds)`,
      columns: ['library', 'ops/s', 'time per hit', '× floor (slower)', 'herd speed-up'],
      rows: [FLOOR, ...local.contenders.map((c) => c.name)].map((name) => [
        name,
        opsPerSec(ops(name)),
        us(1000 / ops(name)),
        ratio(slower(name, FLOOR)),
        local.samples.herd ? ratio(slower(name, 'herd')) : '—',
      ]),
      notes: [
        '"× floor" = how many times slower than an awaited quick-lru lookup; "herd speed-up" > 1 means herd is faster than that row.',
        'ops/s and time per hit: medians over the rounds; the two ratio columns: the median of per-round ratios, each sample against the other measured in the same round.',
      ],
    })
    for (const c of local.contenders) configs.push({ name: c.name, config: c.describe({ ttlMs: 3_600_000, staleMs: 0, load: async () => 0 }) })
    if (local.samples.herd) {
      const ofFloor = slower('herd', FLOOR)
      targets.push({
        target: 'local-tier hit within 3× of the quick-lru floor',
        measured: `${ratio(ofFloor)} the floor's time`,
        met: ofFloor <= 3,
      })
      const peers = local.contenders.filter((c) => c.name !== 'herd')
      // herd's time over each peer's, round by round: at least 1 means that peer was as fast or faster.
      const against = peers.map((c) => ({ name: c.name, herdOver: slower('herd', c.name) }))
      const slowerThan = against.filter((c) => c.herdOver >= 1).map((c) => `${c.name} (herd at ${ratio(c.herdOver)} its time per hit)`)
      targets.push({
        target: 'local-tier hit faster than every peer',
        measured: slowerThan.length
          ? `slower than ${slowerThan.join(', ')}`
          : `faster than all ${peers.length} (closest: herd at ${ratio(Math.max(...against.map((c) => c.herdOver)))} its time per hit)`,
        met: peers.length ? slowerThan.length === 0 : null,
      })
    }

    // Shorter samples, three times as many rounds as suite A: B's ratios pair each sample with the floor's in the
    // same round, and more rounds give their median more to stand on.
    const sharedRounds = options.rounds ?? (options.smoke ? 1 : 3 * rounds)
    let server: RedisServer | undefined
    if (!redisReady()) {
      notes.push('B and C skipped: redis-server not found (set HERD_REQUIRE_REDIS=1 to make that an error).')
      targets.push({ target: REDIS_HIT_TARGET, measured: 'skipped: no redis-server', met: null })
    } else {
      try {
        server = await startRedis()
        const shared = await sharedTier(server, options, sharedRounds, p)
        const sops = (name: string) => median(shared.samples[name]!)
        const slower = (name: string, than: string) => pairedSlowdown(shared.samples, name, than)
        tables.push({
          title: `B. Shared-tier (Redis) hit, no local tier, sequential awaits (${sharedRounds} interleaved rounds)`,
          columns: ['library', 'ops/s', 'time per hit', '× bare GET', '× GET + JSON.parse', '× one read in flight'],
          rows: [BARE, PARSE, COALESCING, ...shared.contenders.map((c) => c.name)].map((name) => [
            name,
            opsPerSec(sops(name)),
            us(1000 / sops(name)),
            ratio(slower(name, BARE)),
            ratio(slower(name, PARSE)),
            ratio(slower(name, COALESCING)),
          ]),
          notes: [
            'Same machine, loopback, one connection per library. bentocache talks to Redis through ioredis, the others through node-redis.',
            'The value is the same ~100-byte JSON row; "floor + JSON.parse" is the least a cache returning objects can do, "one read per key in flight" the least one that coalesces concurrent reads does (a Map of promises around the GET and the parse; no timeout, breaker or entry format).',
            'ops/s and time per hit: medians over the rounds. The × columns: the median of per-round ratios, each sample against the floor measured in the same round (a shared machine drifts by more than the differences measured here).',
          ],
        })
        for (const c of shared.contenders)
          configs.push({ name: `${c.name} (Redis, suite 5B)`, config: c.describe({ ttlMs: 3_600_000, staleMs: 0, local: false }) })
        if (shared.samples.herd) {
          const r = slower('herd', BARE)
          targets.push({
            target: REDIS_HIT_TARGET,
            measured: `${ratio(r)} (${us(1000 / sops('herd'))} vs ${us(1000 / sops(BARE))}; ${ratio(slower('herd', PARSE))} of GET + JSON.parse; one read in flight, the floor of any coalescing cache: ${ratio(slower(COALESCING, BARE))})`,
            met: r <= 1.15,
          })
          // The peer libraries; the naive cache-aside (a GET and a JSON.parse by hand) is shown beside them as a floor.
          const peers = shared.contenders.filter((c) => c.name !== 'herd' && c.name !== naiveRedis.name)
          const faster = peers.filter((c) => slower('herd', c.name) >= 1).map((c) => c.name)
          targets.push({
            target: 'Redis hit faster than every peer library',
            measured: faster.length ? `slower than ${faster.join(', ')}` : `faster than all ${peers.length}`,
            met: peers.length ? faster.length === 0 : null,
          })
        }
        const trips = await roundTrips(server, options, p)
        const herdTrips = trips.find((t) => t.name.startsWith('herd, shared tier only'))
        if (herdTrips)
          targets.push({
            target: 'a miss in at most 3 round trips (herd, shared tier only)',
            measured: `${herdTrips.miss.toFixed(2)} (${herdTrips.missCommands})`,
            met: herdTrips.miss <= 3,
          })
        tables.push({
          title: 'C. Redis round trips per call',
          columns: ['setup', 'per hit', 'per miss', 'server cmds per hit', 'server cmds per miss', 'hit sends', 'miss sends'],
          rows: trips.map((t) => [
            t.name,
            t.hit.toFixed(2),
            t.miss.toFixed(2),
            t.hitServer.toFixed(2),
            t.missServer.toFixed(2),
            t.hitCommands || '—',
            t.missCommands || '—',
          ]),
          notes: [
            'per hit / per miss: commands clients sent (MONITOR), i.e. round trips; a PUBLISH or a lock release is one even when nobody waits for it.',
            'server cmds: INFO commandstats, which also counts the commands Lua scripts run inside Redis.',
            'A miss is a sequential first fetch of a cold key: it includes filling it.',
          ],
        })
      } finally {
        await server?.stop()
      }
    }
    p.done()
    return clock.finish({
      settings: { rounds, sharedRounds, keys: KEYS.length },
      contenders: configs,
      tables,
      targets,
      notes,
      data: { local: local.samples },
    })
  },
}

export { REDIS_CONTENDERS }

const REDIS_HIT_TARGET = 'Redis hit within 1.15× of a bare GET'
