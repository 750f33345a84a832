import type { Bus } from './contracts/bus.js'
import type { Codec } from './contracts/codec.js'
import type { Lock } from './contracts/lock.js'
import type { Store } from './contracts/store.js'
import { type Duration, toMs, describe } from './duration.js'
import { HerdArgumentError } from './errors.js'
import type { HerdLogger } from './logger.js'
import type { Size } from './size.js'

/** What every loader context has: ways to set the entry's TTL, stale windows and tags from what was loaded. */
export interface EntrySetters {
  /** Adaptive TTL: overrides `ttl` for the entry (entries) this load writes. `0` means: return it, but don't cache it. */
  setTtl(ttl: Duration): void
  /** Overrides `ttl`, `staleWhileRevalidate` and `staleIfError` for the entry (entries) this load writes. */
  setOptions(options: LoadedEntryOptions): void
  /** Adds tags to the entry (entries) this load writes, from what it loaded (the call's `tags` stay). */
  setTags(tags: readonly string[]): void
}

/** What a loader gets: a signal to honour, the last value, and ways to set the entry's TTL and tags from what it loaded. */
export interface LoaderContext<T> extends EntrySetters {
  key: string
  /** Aborts when every caller has gone, the hard timeout fires, the lease is lost or the herd closes. */
  signal: AbortSignal
  /** The previous value, when one is still held (stale or about to be). */
  stale: T | undefined
}

/** What a batch loader (fetchMany) gets: the keys to load, a signal, and the values still held for some of them. */
export interface BatchLoaderContext<T> extends EntrySetters {
  keys: readonly string[]
  /** Aborts when every caller of every key has gone, the hard timeout fires, or the herd closes. */
  signal: AbortSignal
  /** The previous values, for the keys that still have one (stale or about to be). */
  stale: ReadonlyMap<string, T>
}

/**
 * Loads many keys in one call: returns a Map from key to value, or an array
 * aligned with `keys`. A key missing from the Map (or `undefined` in the
 * array) means "not found" (cached for `negativeTtl`); keys it was not asked
 * for are ignored; an array of another length fails the batch.
 */
export type BatchLoader<T> = (
  keys: readonly string[],
  context: BatchLoaderContext<T>,
) => ReadonlyMap<string, T> | ReadonlyArray<T> | Promise<ReadonlyMap<string, T> | ReadonlyArray<T>>

/** How a fetch was answered: from a fresh entry, a stale one, or by waiting for a load. */
export type FetchStatus = 'hit' | 'stale' | 'miss'

/** What `fetchEntry` resolves: the value, how it was answered, and when the value was produced (epoch ms). */
export interface FetchResult<T> {
  value: T
  status: FetchStatus
  createdAt: number
}

/** Per-entry settings a loader may change from what it loaded. */
export interface LoadedEntryOptions {
  ttl?: Duration
  staleWhileRevalidate?: Duration
  staleIfError?: Duration
}

/**
 * Returns the value, or `undefined` for "not found" (cached for
 * `negativeTtl`). `fetch` resolves what the loader returns: `T` includes
 * `undefined` only when the loader can return it.
 */
export type Loader<T> = (context: LoaderContext<T>) => T | Promise<T>

/** Options that apply per entry; set them on the herd as defaults and override them per call. */
export interface EntryOptions {
  /** How long an entry is fresh. Default '5m'. */
  ttl?: Duration
  /** How long past `ttl` a stale entry is served at once while one caller refreshes it. Default 0. */
  staleWhileRevalidate?: Duration
  /** How long past `ttl` a stale entry stands in when the loader fails or times out. Default 0. */
  staleIfError?: Duration
  /**
   * TTL jitter as a fraction in [0, 1]: each entry's ttl is multiplied by a
   * uniform random factor in [1 - jitter, 1], so keys written together expire
   * apart and never later than asked. Default 0.1.
   */
  jitter?: number
  /** XFetch early-refresh aggressiveness. Default 1; 0 disables early refresh. */
  beta?: number
  /** TTL for "not found" (the loader returned `undefined`); 0 disables negative caching. Default '30s', capped at `ttl`. */
  negativeTtl?: Duration
  /** After this long, a caller with a stale value to fall back on gets it while the load goes on. Default: off. */
  softTimeout?: Duration
  /** After this long the loader's signal aborts and the call rejects with HerdTimeoutError (or serves stale-if-error). Default '10s'. */
  hardTimeout?: Duration
}

export interface FetchOptions extends EntryOptions {
  /** Stops this caller waiting. Other callers of the same key and the shared load go on. */
  signal?: AbortSignal
  /** Tags for the entry this call's load writes: expireTags / deleteTags invalidate every entry with one of them. At most 64. */
  tags?: readonly string[]
  /** `false`: neither read nor fill this process's local tier for this call. Default true. */
  local?: boolean
  /** `false`: no fleet-wide lock for this call's load (in-process single flight only; the write is ordered by the clock). Default true. */
  lock?: boolean
  /** `false`: this call's write does not tell other processes to drop their copies. Default true. */
  bus?: boolean
}

export interface FetchManyOptions extends FetchOptions {
  /** Most keys one loader call gets; more are loaded in several calls at once. Default: all of them in one call. */
  maxBatch?: number
}

export interface SetOptions extends InvalidateOptions {
  ttl?: Duration
  staleWhileRevalidate?: Duration
  staleIfError?: Duration
  jitter?: number
  tags?: readonly string[]
}

/** For set, delete, expire, expireTags, deleteTags and clear. */
export interface InvalidateOptions {
  /**
   * Reject with HerdUnavailableError when the shared tier could not take it,
   * instead of resolving, holding it in this process and replaying it later.
   * A strict set then changes nothing; a strict invalidation still holds here.
   */
  strict?: boolean
}

export interface HerdOptions extends EntryOptions {
  /** Shared tier. Default: none, the local tier alone holds entries (in-process). */
  store?: Store
  /** Fleet-wide lock. Default: in-process single flight only. */
  lock?: Lock
  /** Invalidation fan-out between processes' local tiers. */
  bus?: Bus
  /** Encodes values for the Store. Default: tagged JSON (see defaultCodec). */
  codec?: Codec
  /**
   * Per-process tier in front of the Store. `false` disables it when a Store is set.
   * - `maxSize`: most entries (default 10,000); `maxBytes`: most bytes of encoded values
   *   (e.g. '64mb'; default unbounded); `maxEntryBytes`: larger entries live in the Store only.
   * - `ttl`: how long a copy is borrowed from the Store (default '5s').
   * - `freeze`: deep-freeze held values, so a caller changing one can't change what the next gets (default true).
   */
  local?: false | { maxSize?: number; maxBytes?: Size; maxEntryBytes?: Size; ttl?: Duration; freeze?: boolean }
  /** How long a lock lease lasts; it is renewed while the loader runs. Default '5s'. */
  lease?: Duration
  /** After a loader error, how long this process serves stale-if-error before calling the loader for that key again. Default '1s'. */
  errorBackoff?: Duration
  /** Per-call timeout on Store and Lock operations; a hung backend counts as a failure. Default '1s'. */
  operationTimeout?: Duration
  /**
   * Keys, tags and clear() are scoped to it: two herds with different
   * namespaces on one Store never see each other's entries. Default '' (none).
   */
  namespace?: string
  /**
   * Writes and invalidations that can't reach the Store (or Bus) take effect
   * in this process at once and are replayed when it is back: at most
   * `maxOperations` (default 10,000) and `maxBytes` (default 16 MiB), the
   * oldest dropped first. `false` turns it off.
   */
  recovery?: false | { maxOperations?: number; maxBytes?: number }
  /** Circuit breaker around Store and Lock. */
  breaker?: false | { threshold?: number; resetAfter?: Duration }
  /** At most this many loader runs at once in this process (bulkhead). Default: unbounded. */
  maxConcurrentLoads?: number
  /**
   * At most this many background refreshes (stale-while-revalidate, early,
   * keepFresh) at once in this process; the rest wait their turn, their
   * stale values served meanwhile. A tag expiry or a cold start can make
   * thousands of keys stale at once: unbounded, each one's lock call and
   * load would start together. A `fetchMany` refresh is one; a refresh's
   * hardTimeout counts from its turn. A refresh that a caller waits on with
   * nothing to be served (a keepFresh refresh of a key this process doesn't
   * hold) starts at once, past the bound. Default: 64.
   */
  maxConcurrentRefreshes?: number
  /**
   * Where herd writes what it can't tell a caller: backend failures (one line
   * per source per 30 s), breaker changes, misconfiguration. pino's logger,
   * or anything with `error(fields, message)` and `warn(fields, message)`.
   */
  logger?: HerdLogger
}

/** Entry options with every duration in ms, ready for the hot path. */
export interface ResolvedEntryOptions {
  ttl: number
  staleWhileRevalidate: number
  staleIfError: number
  jitter: number
  beta: number
  negativeTtl: number
  softTimeout: number | undefined
  hardTimeout: number
  tags: readonly string[] | undefined
  /** Per call: use the local tier, the Lock, the Bus. */
  local: boolean
  lock: boolean
  bus: boolean
}

export const ENTRY_DEFAULTS: ResolvedEntryOptions = {
  ttl: 300_000,
  staleWhileRevalidate: 0,
  staleIfError: 0,
  jitter: 0.1,
  beta: 1,
  negativeTtl: 30_000,
  softTimeout: undefined,
  hardTimeout: 10_000,
  tags: undefined,
  local: true,
  lock: true,
  bus: true,
}

/**
 * Merges per-call (or herd-level) options over `base`, validating each one
 * it touches. With `known`, any other key is rejected, so a typo such as
 * `{ swr: '1m' }` fails at the call instead of being silently ignored.
 */
export function resolveEntryOptions(
  base: ResolvedEntryOptions,
  options: EntryOptions & Pick<FetchOptions, 'tags' | 'local' | 'lock' | 'bus'>,
  where: string,
  known?: ReadonlySet<string>,
): ResolvedEntryOptions {
  if (options === null || typeof options !== 'object') {
    throw new HerdArgumentError(`herd: ${where} options must be an object; got ${describe(options)}`)
  }
  if (known !== undefined) {
    for (const name of Object.keys(options)) {
      if (!known.has(name)) throw new HerdArgumentError(`herd: unknown option "${name}" in ${where}; known: ${[...known].join(', ')}`)
    }
  }
  const out = { ...base }
  if (options.ttl !== undefined) out.ttl = toMs(options.ttl, 'ttl')
  if (options.staleWhileRevalidate !== undefined) out.staleWhileRevalidate = toMs(options.staleWhileRevalidate, 'staleWhileRevalidate')
  if (options.staleIfError !== undefined) out.staleIfError = toMs(options.staleIfError, 'staleIfError')
  if (options.negativeTtl !== undefined) out.negativeTtl = toMs(options.negativeTtl, 'negativeTtl')
  if (options.softTimeout !== undefined) out.softTimeout = toMs(options.softTimeout, 'softTimeout')
  if (options.hardTimeout !== undefined) out.hardTimeout = positiveMs(options.hardTimeout, 'hardTimeout')
  if (options.jitter !== undefined) out.jitter = fraction(options.jitter, 'jitter', 1)
  if (options.beta !== undefined) out.beta = fraction(options.beta, 'beta', Number.MAX_SAFE_INTEGER)
  if (options.tags !== undefined) out.tags = tagList(options.tags, `${where} tags`, MAX_TAGS_PER_ENTRY)
  if (options.local !== undefined) out.local = flag(options.local, `${where} local`)
  if (options.lock !== undefined) out.lock = flag(options.lock, `${where} lock`)
  if (options.bus !== undefined) out.bus = flag(options.bus, `${where} bus`)
  return out
}

function flag(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new HerdArgumentError(`herd: ${name} must be true or false; got ${describe(value)}`)
  return value
}

/** Most tags one entry may carry: each is a map lookup on every hit of the entry. */
export const MAX_TAGS_PER_ENTRY = 64

/** A validated, frozen copy of a list of tags (non-empty strings); undefined for an empty list. */
export function tagList(tags: unknown, where: string, max: number): readonly string[] | undefined {
  if (!Array.isArray(tags)) throw new HerdArgumentError(`herd: ${where} must be an array of strings; got ${describe(tags)}`)
  if (tags.length > max) throw new HerdArgumentError(`herd: ${where} takes at most ${max} tags; got ${tags.length}`)
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag.length === 0) throw new HerdArgumentError(`herd: ${where} must hold non-empty strings; got ${describe(tag)}`)
  }
  return tags.length === 0 ? undefined : Object.freeze([...new Set(tags as string[])])
}

export function positiveMs(value: Duration, name: string): number {
  const ms = toMs(value, name)
  if (ms <= 0) throw new HerdArgumentError(`herd: ${name} must be greater than 0; got ${describe(value)}`)
  return ms
}

export function fraction(value: unknown, name: string, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    throw new HerdArgumentError(`herd: ${name} must be a number from 0 to ${max}; got ${describe(value)}`)
  }
  return value
}

export function positiveInteger(value: unknown, name: string, allowInfinity = false): number {
  if (allowInfinity && value === Infinity) return Infinity
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new HerdArgumentError(`herd: ${name} must be a whole number >= 1; got ${describe(value)}`)
  }
  return value
}

/** The call's options with what the loader set (ctx.setTtl, setOptions, setTags); tags it added join the call's own. */
export function withOverrides(options: ResolvedEntryOptions, overrides: Partial<ResolvedEntryOptions>): ResolvedEntryOptions {
  const merged = { ...options, ...overrides }
  if (overrides.tags !== undefined) merged.tags = tagList([...(options.tags ?? []), ...overrides.tags], 'setTags()', MAX_TAGS_PER_ENTRY)
  return merged
}
