/**
 * herd and every in-process peer behind one small interface, each configured
 * the way its own documentation recommends for stampede protection (and for
 * stale-while-revalidate when the suite asks for a stale window). The
 * `describe` text is what the report prints under "how each peer was
 * configured".
 */
import { createHerd, type Herd, type HerdOptions } from '@herd/core'
import { cachified, totalTtl, type Cache as CachifiedCache, type CacheEntry } from '@epic-web/cachified'
import { createCache as createAsyncCacheDedupe } from 'async-cache-dedupe'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { createCache as createCacheManager } from 'cache-manager'
import { LRUCache } from 'lru-cache'
import QuickLRU from 'quick-lru'
import { sleep, until } from '../lib/burst.js'

export interface CacheSetup {
  /** How long an entry is fresh. */
  ttlMs: number
  /** Stale-while-revalidate window past ttl; 0 = none (an expired entry is a miss). */
  staleMs: number
  /** The one loader every caller of a key shares (it counts the database queries). */
  load: (key: string) => Promise<unknown>
  /** Extra herd options (suite 4 sets beta). */
  herd?: Partial<HerdOptions>
  /** cache-manager's early refresh: refresh in the background when less than this is left. */
  refreshThresholdMs?: number
  /** Bound of the in-memory LRU where the library has one. */
  maxSize?: number
}

export interface CacheInstance {
  get(key: string): Promise<unknown>
  /** Resolves once an entry written just now for `key` is past its fresh ttl (and, with staleMs, inside its stale window). */
  waitExpired(key: string): Promise<void>
  /**
   * The library's own call, for the hot-path loop: `body` is a statement using
   * `target`, `k` (the key) and `load` (the loader), so the loop calls the
   * library directly rather than through `get`'s wrapper.
   */
  direct: { target: unknown; body: string }
  /** Counters the library itself reports, where it has them (herd's stats()). */
  stats?(): Record<string, number>
  close(): Promise<void>
}

export interface Contender {
  name: string
  describe(setup: CacheSetup): string
  /** What this library does with a stale window: 'native', 'emulated' (closest documented feature) or 'none'. */
  swr: 'native' | 'emulated' | 'none'
  create(setup: CacheSetup): CacheInstance
}

const expiry = (setup: CacheSetup) => () => sleep(setup.ttlMs + 3)

/** herd as every in-process suite configures it (the configuration `herd.describe` prints). */
export function herdFor(s: Pick<CacheSetup, 'ttlMs' | 'staleMs' | 'maxSize' | 'herd'>): Herd {
  return createHerd({ ttl: s.ttlMs, staleWhileRevalidate: s.staleMs, local: { maxSize: s.maxSize ?? 10_000 }, ...s.herd })
}

export const herd: Contender = {
  name: 'herd',
  swr: 'native',
  describe: (s) =>
    `createHerd({ ttl: ${s.ttlMs}, staleWhileRevalidate: ${s.staleMs}${
      s.herd
        ? `, ${Object.entries(s.herd)
            .map(([k, v]) => `${k}: ${String(v)}`)
            .join(', ')}`
        : ''
    } }) — defaults otherwise (in-process tier only, jitter 0.1, beta 1); herd.fetch(key, loader)`,
  create(s) {
    const h = herdFor(s)
    return {
      get: (key) => h.fetch(key, () => s.load(key)),
      direct: { target: h, body: 'await target.fetch(k, () => load(k))' },
      waitExpired: expiry(s),
      stats: () => {
        const st = h.stats()
        return { loads: st.loads, refreshes: st.refreshes, earlyRefreshes: st.earlyRefreshes, misses: st.misses, coalesced: st.coalesced }
      },
      close: () => h.close(),
    }
  },
}

export const bentocache: Contender = {
  name: 'bentocache',
  swr: 'native',
  describe: (s) =>
    `BentoCache with one store: bentostore().useL1Layer(memoryDriver({ maxItems: ${s.maxSize ?? 10_000}, serialize: false })); getOrSet({ key, factory, ttl: ${s.ttlMs}, grace: ${s.staleMs > 0 ? s.staleMs : 'false'}${s.staleMs > 0 ? ', timeout: 0' : ''} }) — stampede protection is built in (in-memory lock per key); grace + timeout 0 is its documented stale-while-revalidate`,
  create(s) {
    const bento = new BentoCache({
      default: 'cache',
      stores: { cache: bentostore().useL1Layer(memoryDriver({ maxItems: s.maxSize ?? 10_000, serialize: false })) },
    })
    return {
      get: (key) => bento.getOrSet({ key, factory: () => s.load(key), ttl: s.ttlMs, grace: s.staleMs > 0 ? s.staleMs : false, timeout: 0 }),
      direct: {
        target: bento,
        body: `await target.getOrSet({ key: k, factory: () => load(k), ttl: ${s.ttlMs}, grace: ${s.staleMs > 0 ? s.staleMs : false}, timeout: 0 })`,
      },
      waitExpired: expiry(s),
      close: () => bento.disconnectAll(),
    }
  },
}

export const cacheManager: Contender = {
  name: 'cache-manager',
  swr: 'emulated',
  describe: (s) =>
    s.staleMs > 0 || s.refreshThresholdMs
      ? `createCache() (Keyv in-memory store); wrap(key, fn, ttl: ${s.ttlMs + s.staleMs}, refreshThreshold: ${s.refreshThresholdMs ?? s.staleMs}) — wrap coalesces concurrent calls per key; refreshThreshold (background refresh when less than that is left) is its documented answer to serving while refreshing`
      : `createCache() (Keyv in-memory store); wrap(key, fn, ttl: ${s.ttlMs}) — wrap coalesces concurrent calls per key`,
  create(s) {
    const cache = createCacheManager()
    const threshold = s.refreshThresholdMs ?? (s.staleMs > 0 ? s.staleMs : undefined)
    const ttl = s.ttlMs + s.staleMs
    return {
      get: (key) => cache.wrap(key, () => s.load(key), ttl, threshold),
      direct: { target: cache, body: `await target.wrap(k, () => load(k), ${ttl}, ${threshold})` },
      waitExpired: expiry(s),
      close: async () => {
        await cache.disconnect()
      },
    }
  },
}

/** cachified's cache: lru-cache through the adapter its README gives (entries live for cachified's totalTtl). */
export function cachifiedLru(maxSize = 10_000): { lru: LRUCache<string, CacheEntry>; cache: CachifiedCache } {
  const lru = new LRUCache<string, CacheEntry>({ max: maxSize })
  const cache: CachifiedCache = {
    set(key, value) {
      const ttl = totalTtl(value?.metadata)
      return lru.set(key, value, { ttl: ttl === Infinity ? undefined : ttl, start: value?.metadata?.createdTime })
    },
    get: (key) => lru.get(key),
    delete: (key) => lru.delete(key),
  }
  return { lru, cache }
}

export const cachifiedContender: Contender = {
  name: 'cachified',
  swr: 'native',
  describe: (s) =>
    `cachified({ key, cache, getFreshValue, ttl: ${s.ttlMs}, staleWhileRevalidate: ${s.staleMs} }) over lru-cache (max ${s.maxSize ?? 10_000}) with the README's adapter (totalTtl, createdTime) — cachified dedupes concurrent getFreshValue calls per key`,
  create(s) {
    const { lru, cache } = cachifiedLru(s.maxSize)
    return {
      get: (key) => cachified({ key, cache, getFreshValue: () => s.load(key), ttl: s.ttlMs, staleWhileRevalidate: s.staleMs }),
      direct: {
        target: { cachified, cache },
        body: `await target.cachified({ key: k, cache: target.cache, getFreshValue: () => load(k), ttl: ${s.ttlMs}, staleWhileRevalidate: ${s.staleMs} })`,
      },
      waitExpired: expiry(s),
      close: async () => {
        lru.clear()
      },
    }
  },
}

export const asyncCacheDedupe: Contender = {
  name: 'async-cache-dedupe',
  swr: 'native',
  describe: (s) => {
    const ttl = Math.max(1, Math.ceil(s.ttlMs / 1000))
    return `createCache({ ttl: ${ttl}, ${s.staleMs > 0 ? `stale: ${Math.max(1, Math.ceil(s.staleMs / 1000))}, ` : ''}storage: { type: 'memory', options: { size: ${s.maxSize ?? 10_000} } } }).define('load', fn) — dedupes concurrent calls per argument; ttl and stale are whole seconds (so its entries live at least 1 s, and its clock ticks once a second)`
  },
  create(s) {
    const ttl = Math.max(1, Math.ceil(s.ttlMs / 1000))
    const stale = s.staleMs > 0 ? Math.max(1, Math.ceil(s.staleMs / 1000)) : 0
    const cache = createAsyncCacheDedupe({ ttl, stale, storage: { type: 'memory', options: { size: s.maxSize ?? 10_000 } } }).define(
      'load',
      (key: string) => s.load(key),
    )
    return {
      get: (key) => cache.load(key),
      direct: { target: cache, body: 'await target.load(k)' },
      async waitExpired(key) {
        if (stale > 0) {
          // Refreshes once less than `stale` seconds are left, on a clock that ticks once a second.
          await sleep(ttl * 1000 + 2_100)
          return
        }
        // Its Wrapper.exists() takes the storage key (`<name>~<key>`), not the argument.
        await until(async () => !(await cache.exists('load', `load~${key}`)), ttl * 1000 + 3_000, 20)
      },
      close: () => cache.clear(),
    }
  },
}

export const lruCacheFetch: Contender = {
  name: 'lru-cache fetch',
  swr: 'native',
  describe: (s) =>
    `new LRUCache({ max: ${s.maxSize ?? 10_000}, ttl: ${s.ttlMs}, fetchMethod${s.staleMs > 0 ? ', allowStale: true' : ''} }); cache.fetch(key) — fetch dedupes concurrent calls per key${s.staleMs > 0 ? '; allowStale returns the stale value while fetchMethod refreshes (no bound on staleness)' : ''}`,
  create(s) {
    const lru = new LRUCache<string, object>({
      max: s.maxSize ?? 10_000,
      ttl: s.ttlMs,
      allowStale: s.staleMs > 0,
      fetchMethod: (key) => s.load(key) as Promise<object>,
    })
    return {
      get: (key) => lru.fetch(key),
      direct: { target: lru, body: 'await target.fetch(k)' },
      waitExpired: () => sleep(s.ttlMs + 5),
      close: async () => {
        lru.clear()
      },
    }
  },
}

export const naive: Contender = {
  name: 'naive cache-aside',
  swr: 'none',
  describe: (s) => `Map of { value, expiresAt }: get → on a miss await the loader, then set (ttl ${s.ttlMs}); what most code does by hand`,
  create(s) {
    const map = new Map<string, { value: unknown; expiresAt: number }>()
    // The function users write: this is the "library" call.
    const get = async (key: string) => {
      const hit = map.get(key)
      if (hit !== undefined && hit.expiresAt > Date.now()) return hit.value
      const value = await s.load(key)
      map.set(key, { value, expiresAt: Date.now() + s.ttlMs })
      return value
    }
    return {
      get,
      direct: { target: get, body: 'await target(k)' },
      waitExpired: expiry(s),
      close: async () => map.clear(),
    }
  },
}

/** The floor for the hot path: what a lookup in quick-lru (herd's own local-tier LRU) costs when awaited. */
export function quickLruFloor(maxSize = 10_000): { lru: QuickLRU<string, unknown>; get(key: string): Promise<unknown> } {
  const lru = new QuickLRU<string, unknown>({ maxSize })
  return { lru, get: async (key) => lru.get(key) }
}

export const IN_PROCESS: readonly Contender[] = [herd, bentocache, cacheManager, cachifiedContender, asyncCacheDedupe, lruCacheFetch, naive]
