/**
 * Ways to get many keys at once (suite 8), behind one small interface:
 * herd's three (fetchMany, one fetch per key, herd.batch) over any herd, and
 * cachified's, with and without its documented `createBatch`. Each `getAll`
 * is what a handler hydrating a list of ids writes: every key requested in
 * one synchronous loop, values back aligned with the keys.
 */
import { cachified, createBatch } from '@epic-web/cachified'
import type { Herd } from '@herd/core'
import { cachifiedLru, herdFor } from './memory.js'
import { herdOnRedis, herdRedis } from './redis.js'

export interface ManySetup {
  /** How long an entry is fresh. */
  ttlMs: number
  /** One database query for many rows, aligned with `keys` (what a batch loader calls). */
  loadMany(keys: readonly string[]): Promise<unknown[]>
  /** One database query for one row (what a per-key loader calls). */
  load(key: string): Promise<unknown>
}

export interface ManyInstance {
  /** The values of `keys`, aligned with them. */
  getAll(keys: readonly string[]): Promise<unknown[]>
  close(): Promise<void>
}

export interface ManyContender {
  name: string
  /** The library, as `--only` names it. */
  library: string
  /** The calls it makes, for the report. */
  describe(ttlMs: number): string
  create(setup: ManySetup): Promise<ManyInstance>
}

/** herd.batch()'s gathering window: the issue's example, long enough to gather calls from a few requests. */
export const BATCH_WINDOW = '2ms'

interface HerdWay {
  label: string
  call: string
  bind(herd: Herd, setup: ManySetup): (keys: readonly string[]) => Promise<unknown[]>
}

const HERD_WAYS: readonly HerdWay[] = [
  {
    label: 'fetchMany',
    call: 'herd.fetchMany(keys, (missing) => db.rows(missing)): one call, one batch loader for the keys missing everywhere',
    bind: (herd, s) => (keys) => herd.fetchMany(keys, (missing) => s.loadMany(missing)),
  },
  {
    label: 'fetch per key',
    call: 'Promise.all(keys.map((k) => herd.fetch(k, () => db.row(k)))): one single-key loader per key',
    bind: (herd, s) => (keys) => Promise.all(keys.map((k) => herd.fetch(k, () => s.load(k)))),
  },
  {
    label: 'batch',
    call: `const batch = herd.batch((missing) => db.rows(missing), { batchWindow: '${BATCH_WINDOW}' }) once; Promise.all(keys.map((k) => batch.fetch(k))): DataLoader-style gathering`,
    bind: (herd, s) => {
      const batch = herd.batch((missing) => s.loadMany(missing), { batchWindow: BATCH_WINDOW })
      return (keys) => Promise.all(keys.map((k) => batch.fetch(k)))
    },
  },
]

type OpenHerd = (ttlMs: number) => Promise<{ herd: Herd; close(): Promise<void> }>

function herdWays(open: OpenHerd, config: (ttlMs: number) => string): ManyContender[] {
  return HERD_WAYS.map((way) => ({
    name: `herd ${way.label}`,
    library: 'herd',
    describe: (ttlMs) => `${config(ttlMs)}; ${way.call}`,
    async create(s) {
      const { herd, close } = await open(s.ttlMs)
      return { getAll: way.bind(herd, s), close }
    },
  }))
}

/** herd in one process, configured as every in-process suite configures it. */
export const HERD_MANY: readonly ManyContender[] = herdWays(
  async (ttlMs) => {
    const herd = herdFor({ ttlMs, staleMs: 0 })
    return { herd, close: () => herd.close() }
  },
  (ttlMs) => `createHerd({ ttl: ${ttlMs}, staleWhileRevalidate: 0, local: { maxSize: 10_000 } })`,
)

/** herd on a real Redis (Store, Lock and Bus on one node-redis client), configured as every Redis suite configures it. */
export function herdManyOnRedis(url: string): ManyContender[] {
  return herdWays(
    async (ttlMs) => {
      const { herd, client } = await herdOnRedis({ url, ttlMs, staleMs: 0 })
      return {
        herd,
        async close() {
          await herd.close()
          await client.quit()
        },
      }
    },
    (ttlMs) => herdRedis.describe({ ttlMs, staleMs: 0, local: true }),
  )
}

const CACHIFIED_CACHE = "over lru-cache (max 10,000) with the README's adapter (totalTtl, createdTime)"

/**
 * cachified's README, "Batch requesting values": a new createBatch(getFreshValues)
 * per list request, cachified({ key, cache, ttl, getFreshValue: batch.add(id) })
 * per id. The batch calls getFreshValues once, with the ids that missed the
 * cache, after every cachified call of the batch has either hit or asked.
 */
export const cachifiedBatch: ManyContender = {
  name: 'cachified createBatch',
  library: 'cachified',
  describe: (ttlMs) =>
    `per list request: const batch = createBatch((missing) => db.rows(missing)); Promise.all(keys.map((k) => cachified({ key: k, cache, ttl: ${ttlMs}, getFreshValue: batch.add(k) }))) ${CACHIFIED_CACHE} — its README's batch example`,
  async create(s) {
    const { lru, cache } = cachifiedLru()
    return {
      getAll(keys) {
        const batch = createBatch<unknown, string>((missing) => s.loadMany(missing))
        return Promise.all(keys.map((key) => cachified({ key, cache, ttl: s.ttlMs, getFreshValue: batch.add(key) })))
      },
      close: async () => lru.clear(),
    }
  },
}

/** cachified without a batch: what createBatch saves. */
export const cachifiedPerKey: ManyContender = {
  name: 'cachified per key',
  library: 'cachified',
  describe: (ttlMs) => `Promise.all(keys.map((k) => cachified({ key: k, cache, ttl: ${ttlMs}, getFreshValue: () => db.row(k) }))) ${CACHIFIED_CACHE}`,
  async create(s) {
    const { lru, cache } = cachifiedLru()
    return {
      getAll: (keys) => Promise.all(keys.map((key) => cachified({ key, cache, ttl: s.ttlMs, getFreshValue: () => s.load(key) }))),
      close: async () => lru.clear(),
    }
  },
}

export const IN_PROCESS_MANY: readonly ManyContender[] = [...HERD_MANY, cachifiedBatch, cachifiedPerKey]
