/**
 * herd and its Redis-backed peers, each configured the way its docs show for
 * a fleet of processes sharing one Redis:
 * - herd: Store, Lock and Bus on one node-redis client (redisBackend).
 * - Bentocache: memory L1 + Redis L2 (ioredis) + Redis bus, its documented
 *   multi-instance setup; or L2 alone when a suite wants the shared tier only.
 * - cache-manager: one Keyv store from @keyv/redis (createKeyv), wrap().
 * - naive: node-redis GET, and on a miss the loader then SET PX.
 */
import { createHerd, type Herd } from '@herd/core'
import { redisBackend } from '@herd/redis'
import { createKeyv } from '@keyv/redis'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis'
import { createCache } from 'cache-manager'
import { createClient } from 'redis'
import type { CacheInstance } from './memory.js'
import { sleep } from '../lib/burst.js'

export interface RedisSetup {
  url: string
  ttlMs: number
  staleMs: number
  load: (key: string) => Promise<unknown>
  /** Keep a per-process tier in front of Redis (herd's local tier, Bentocache's L1). Default true. */
  local?: boolean
}

export interface RedisContender {
  name: string
  describe(setup: Omit<RedisSetup, 'url' | 'load'>): string
  create(setup: RedisSetup): Promise<CacheInstance>
}

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url)
  return { host: u.hostname, port: Number(u.port) }
}

/** herd as every Redis suite configures it (the configuration `herdRedis.describe` prints), on a client of its own. */
export async function herdOnRedis(s: Omit<RedisSetup, 'load'>): Promise<{ herd: Herd; client: ReturnType<typeof createClient> }> {
  const client = await createClient({ url: s.url }).connect()
  const herd = createHerd({
    ...redisBackend(client),
    ttl: s.ttlMs,
    staleWhileRevalidate: s.staleMs,
    local: s.local === false ? false : { maxSize: 10_000, ttl: '5s' },
  })
  // As an app would before taking traffic: once the Bus listens, the tag records it made stale are read before the
  // measured calls, not during them.
  await herd.ready()
  return { herd, client }
}

export const herdRedis: RedisContender = {
  name: 'herd',
  describe: (s) =>
    `createHerd({ ...redisBackend(client), ttl: ${s.ttlMs}, staleWhileRevalidate: ${s.staleMs}, local: ${s.local === false ? 'false' : "{ maxSize: 10_000, ttl: '5s' }"} }) on one node-redis client — Store, Lock (fenced leases, woken by pub/sub) and Bus`,
  async create(s) {
    const { herd, client } = await herdOnRedis(s)
    if (process.env.BENCH_TRACE) {
      // Where a fleet wake-up spends its time: the holder's write, then each waiter's wake.
      const t = () => (performance.timeOrigin + performance.now()).toFixed(2)
      herd.on('write', (e) => console.error(`[trace ${process.pid}] ${t()} write ${e.key} accepted=${e.accepted}`))
      herd.on('lock-wait', (e) => console.error(`[trace ${process.pid}] ${t()} lock-wait ${e.key} waited=${e.waitedMs}ms woken=${e.woken}`))
      herd.on('load', (e) => console.error(`[trace ${process.pid}] ${t()} load ${e.key} ${e.durationMs.toFixed(1)}ms`))
    }
    return {
      get: (key) => herd.fetch(key, () => s.load(key)),
      direct: { target: herd, body: 'await target.fetch(k, () => load(k))' },
      waitExpired: () => sleep(s.ttlMs + 3),
      stats: () => {
        const st = herd.stats()
        return { loads: st.loads, lockWaits: st.lockWaits, coalesced: st.coalesced, refreshes: st.refreshes, errors: st.errors, fallbacks: st.fallbacks }
      },
      async close() {
        await herd.close()
        await client.quit()
      },
    }
  },
}

export const bentocacheRedis: RedisContender = {
  name: 'bentocache',
  describe: (s) =>
    s.local === false
      ? `bentostore().useL2Layer(redisDriver({ connection })) (ioredis), no L1; getOrSet({ key, factory, ttl: ${s.ttlMs}${s.staleMs > 0 ? `, grace: ${s.staleMs}, timeout: 0` : ''} })`
      : `bentostore().useL1Layer(memoryDriver({ maxItems: 10_000 })).useL2Layer(redisDriver({ connection })).useBus(redisBusDriver({ connection })) (ioredis); getOrSet({ key, factory, ttl: ${s.ttlMs}${s.staleMs > 0 ? `, grace: ${s.staleMs}, timeout: 0` : ''} }) — its stampede lock is in-memory, per process`,
  async create(s) {
    const connection = hostPort(s.url)
    let store = bentostore()
    if (s.local !== false)
      // serialize stays at its default (true): with serialize: false and a bus, concurrent fills from two
      // processes left most of one process's callers unresolved in our runs (Bentocache 1.6.1).
      store = store.useL1Layer(memoryDriver({ maxItems: 10_000 }))
    store = store.useL2Layer(redisDriver({ connection }))
    if (s.local !== false) store = store.useBus(redisBusDriver({ connection }))
    const bento = new BentoCache({ default: 'cache', stores: { cache: store } })
    // Connect before timing anything, as a running app would be.
    await bento.has({ key: '__warm__' })
    return {
      get: (key) => bento.getOrSet({ key, factory: () => s.load(key), ttl: s.ttlMs, grace: s.staleMs > 0 ? s.staleMs : false, timeout: 0 }),
      direct: {
        target: bento,
        body: `await target.getOrSet({ key: k, factory: () => load(k), ttl: ${s.ttlMs}, grace: ${s.staleMs > 0 ? s.staleMs : false}, timeout: 0 })`,
      },
      waitExpired: () => sleep(s.ttlMs + 3),
      close: () => bento.disconnectAll(),
    }
  },
}

export const cacheManagerRedis: RedisContender = {
  name: 'cache-manager',
  describe: (s) =>
    `createCache({ stores: [createKeyv(url)] }) (@keyv/redis on node-redis); wrap(key, fn, ttl: ${s.ttlMs + s.staleMs}${s.staleMs > 0 ? `, refreshThreshold: ${s.staleMs}` : ''}) — wrap coalesces concurrent calls per key in one process`,
  async create(s) {
    const keyv = createKeyv(s.url)
    const cache = createCache({ stores: [keyv] })
    await keyv.get('__warm__')
    const threshold = s.staleMs > 0 ? s.staleMs : undefined
    return {
      get: (key) => cache.wrap(key, () => s.load(key), s.ttlMs + s.staleMs, threshold),
      direct: { target: cache, body: `await target.wrap(k, () => load(k), ${s.ttlMs + s.staleMs}, ${threshold})` },
      waitExpired: () => sleep(s.ttlMs + 3),
      async close() {
        await cache.disconnect()
      },
    }
  },
}

export const naiveRedis: RedisContender = {
  name: 'naive cache-aside',
  describe: (s) => `node-redis: GET key → on a miss await the loader, then SET key JSON PX ${s.ttlMs}`,
  async create(s) {
    const client = await createClient({ url: s.url }).connect()
    const get = async (key: string) => {
      const hit = await client.get(`naive:${key}`)
      if (hit !== null) return JSON.parse(hit)
      const value = await s.load(key)
      await client.set(`naive:${key}`, JSON.stringify(value), { expiration: { type: 'PX', value: s.ttlMs } })
      return value
    }
    return {
      get,
      direct: { target: get, body: 'await target(k)' },
      waitExpired: () => sleep(s.ttlMs + 3),
      async close() {
        await client.quit()
      },
    }
  },
}

/**
 * Suite 2's floor, not a library: the least a fleet wake-up over pub/sub can
 * cost on this machine. One flight per key per process; a miss takes a lock
 * with SET NX, the winner loads, then SETs the value and PUBLISHes it in one
 * MULTI; the others take the value from that message, on a subscription made
 * up front. No fences, lease renewal, timeouts or fallbacks: what herd's
 * wake-up costs beyond it is what those cost, or waste.
 */
export const floorRedis: RedisContender = {
  name: 'floor: SET NX + PUBLISH',
  describe: (s) =>
    `node-redis, one flight per key per process: GET → SET lock NX PX 5000 → the winner loads, then MULTI SET value PX ${s.ttlMs} + PUBLISH value; the others take the value from the PUBLISH (subscribed up front). No fences, timeouts or fallbacks`,
  async create(s) {
    const client = await createClient({ url: s.url }).connect()
    const subscriber = await client.duplicate().connect()
    const woken = new Map<string, (value: unknown) => void>()
    await subscriber.subscribe('floor:wake', (message) => {
      const cut = message.indexOf('\n')
      woken.get(message.slice(0, cut))?.(JSON.parse(message.slice(cut + 1)))
    })
    const flights = new Map<string, Promise<unknown>>()
    const flight = async (key: string) => {
      // Listening before the first read, so a PUBLISH between it and the lost SET NX isn't missed.
      const message = new Promise((resolve) => woken.set(key, resolve))
      try {
        const hit = await client.get(`floor:${key}`)
        if (hit !== null) return JSON.parse(hit)
        const won = await client.set(`floor:lock:${key}`, '1', { condition: 'NX', expiration: { type: 'PX', value: 5_000 } })
        if (won === null) return await message
        const value = await s.load(key)
        const json = JSON.stringify(value)
        await client
          .multi()
          .set(`floor:${key}`, json, { expiration: { type: 'PX', value: s.ttlMs } })
          .publish('floor:wake', `${key}\n${json}`)
          .exec()
        return value
      } finally {
        woken.delete(key)
      }
    }
    const get = (key: string) => {
      let running = flights.get(key)
      if (running === undefined) {
        running = flight(key).finally(() => flights.delete(key))
        flights.set(key, running)
      }
      return running
    }
    return {
      get,
      direct: { target: get, body: 'await target(k)' },
      waitExpired: () => sleep(s.ttlMs + 3),
      async close() {
        await subscriber.quit()
        await client.quit()
      },
    }
  },
}

export const REDIS_CONTENDERS: readonly RedisContender[] = [herdRedis, bentocacheRedis, cacheManagerRedis, naiveRedis]

export function byName(name: string): RedisContender {
  const found = [...REDIS_CONTENDERS, floorRedis].find((c) => c.name === name)
  if (!found) throw new Error(`unknown Redis contender ${name}`)
  return found
}
