import type { Bus } from './contracts/bus.js'
import type { Codec } from './contracts/codec.js'
import type { Lock } from './contracts/lock.js'
import type { Store } from './contracts/store.js'
import { type Duration, toMs, describe } from './duration.js'
import { HerdArgumentError } from './errors.js'

/** What a loader gets: a signal to honour, the last value, and a way to set the entry's TTL from what it loaded. */
export interface LoaderContext<T> {
  key: string
  /** Aborts when every caller has gone, the hard timeout fires, the lease is lost or the herd closes. */
  signal: AbortSignal
  /** The previous value, when one is still held (stale or about to be). */
  stale: T | undefined
  /** Adaptive TTL: overrides `ttl` for the entry this load writes. `0` means: return it, but don't cache it. */
  setTtl(ttl: Duration): void
  /** Overrides `ttl`, `staleWhileRevalidate` and `staleIfError` for the entry this load writes. */
  setOptions(options: LoadedEntryOptions): void
}

/** How a fetch was answered: from a fresh entry, a stale one, or by waiting for a load. */
export type FetchStatus = 'hit' | 'stale' | 'miss'

/** What `fetchEntry` resolves: the value, how it was answered, and when the value was produced (epoch ms). */
export interface FetchResult<T> {
  value: T | undefined
  status: FetchStatus
  createdAt: number
}

/** Per-entry settings a loader may change from what it loaded. */
export interface LoadedEntryOptions {
  ttl?: Duration
  staleWhileRevalidate?: Duration
  staleIfError?: Duration
}

/** Returns the value, or `undefined` for "not found" (cached for `negativeTtl`). */
export type Loader<T> = (context: LoaderContext<T>) => T | undefined | Promise<T | undefined>

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
}

export interface SetOptions {
  ttl?: Duration
  staleWhileRevalidate?: Duration
  staleIfError?: Duration
  jitter?: number
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
  /** Per-process tier in front of the Store. `false` disables it when a Store is set. */
  local?: false | { maxSize?: number; ttl?: Duration }
  /** How long a lock lease lasts; it is renewed while the loader runs. Default '5s'. */
  lease?: Duration
  /** After a loader error, how long this process serves stale-if-error before calling the loader for that key again. Default '1s'. */
  errorBackoff?: Duration
  /** Per-call timeout on Store and Lock operations; a hung backend counts as a failure. Default '1s'. */
  operationTimeout?: Duration
  /** Circuit breaker around Store and Lock. */
  breaker?: false | { threshold?: number; resetAfter?: Duration }
  /** At most this many loader runs at once in this process (bulkhead). Default: unbounded. */
  maxConcurrentLoads?: number
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
}

/** Merges per-call (or herd-level) options over `base`, validating each one it touches. */
export function resolveEntryOptions(base: ResolvedEntryOptions, options: EntryOptions, where: string): ResolvedEntryOptions {
  if (options === null || typeof options !== 'object') {
    throw new HerdArgumentError(`herd: ${where} options must be an object; got ${describe(options)}`)
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
  return out
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
