import type { Duration } from './duration.js'
import type { HerdEventName, HerdListener } from './events.js'
import type { BatchLoader, FetchManyOptions, FetchOptions, FetchResult, HerdOptions, InvalidateOptions, Loader, SetOptions } from './options.js'
import type { HerdStats } from './stats.js'
import type { Inspection } from './pipeline/inspect.js'
import { HerdPipeline } from './pipeline/pipeline.js'

export interface WarmOptions extends FetchOptions {
  /** Loads at once. Default 4. */
  concurrency?: number
}

export interface WarmResult {
  loaded: number
  failed: Array<{ key: string; error: unknown }>
}

export interface KeepFreshOptions extends FetchOptions {
  /** How often to refresh. Default: 80% of the entry's ttl. */
  every?: Duration
}

export interface BatchOptions extends Omit<FetchManyOptions, 'signal'> {
  /** How long single fetches are gathered before one loader call. Default '0ms': those of the same tick. */
  batchWindow?: Duration
}

/** What herd.batch() returns: fetch and fetchMany through one batch loader. */
export interface Batch<T> {
  fetch(key: string, options?: { signal?: AbortSignal }): Promise<T>
  fetchMany(keys: readonly string[], options?: { signal?: AbortSignal }): Promise<T[]>
}

export interface Herd {
  /** The value for `key`: from a tier, or from one loader call shared by every concurrent caller (fleet-wide with a Lock). */
  fetch<T>(key: string, loader: Loader<T>, options?: FetchOptions): Promise<T>
  /** Like fetch, and says how the value was answered (hit, stale, or miss: waited for a load) and when it was produced. */
  fetchEntry<T>(key: string, loader: Loader<T>, options?: FetchOptions): Promise<FetchResult<T>>
  /** The cached value (fresh, or stale inside staleWhileRevalidate), without loading. */
  get<T>(key: string): Promise<T | undefined>
  /**
   * Many keys at once, with one batch loader call for the ones missing
   * everywhere (in chunks of `maxBatch`): per key, the guarantees of fetch
   * (one load across the fleet, stale-while-revalidate, stale-if-error,
   * fenced writes). Resolves an array aligned with `keys`.
   */
  fetchMany<T>(keys: readonly string[], loader: BatchLoader<T>, options?: FetchManyOptions): Promise<T[]>
  /** The cached values of `keys`, aligned with them, without loading: one batch read for those not held here. */
  getMany<T>(keys: readonly string[]): Promise<Array<T | undefined>>
  /**
   * A batch loader that gathers concurrent single fetches: `batch.fetch(key)`
   * calls made within `batchWindow` become one fetchMany (in the spirit of
   * DataLoader). `batch.fetchMany(keys)` goes straight through.
   */
  batch<T>(loader: BatchLoader<T>, options?: BatchOptions): Batch<T>
  /**
   * Write-through with a new fence; every process drops its local copy. When
   * the Store can't take it, it holds in this process and is replayed when
   * the Store is back (`{ strict: true }`: rejects with HerdUnavailableError).
   */
  set<T>(key: string, value: T, options?: SetOptions): Promise<void>
  /** Marks the entry stale everywhere: the next read serves it and refreshes. */
  expire(key: string, options?: InvalidateOptions): Promise<void>
  /** Removes the entry everywhere, local tiers included; an in-flight load can't bring it back. */
  delete(key: string, options?: InvalidateOptions): Promise<void>
  /**
   * Every entry with one of `tags` turns stale as of now, in every process:
   * inside staleWhileRevalidate it is served once more and refreshed once,
   * fleet-wide. One write per tag, whatever the number of entries.
   */
  expireTags(tags: readonly string[], options?: InvalidateOptions): Promise<void>
  /** Every entry with one of `tags` is gone, in every process: the next read waits for one load. One write per tag. */
  deleteTags(tags: readonly string[], options?: InvalidateOptions): Promise<void>
  /** Every entry of this herd's namespace is gone, in every process. One write, whatever the number of entries. */
  clear(options?: InvalidateOptions): Promise<void>
  /** Fills `keys` before traffic arrives, `concurrency` at a time; the loader reads the key from its context. */
  warm<T>(keys: readonly string[], loader: Loader<T>, options?: WarmOptions): Promise<WarmResult>
  /** Refreshes `key` on a schedule so it never expires under load; one refresher per period across the fleet with a Lock. Returns stop(). */
  keepFresh<T>(key: string, loader: Loader<T>, options?: KeepFreshOptions): () => void
  /** What the fleet and this process hold for `key`: each tier's entry and its state, the lease, work under way. */
  inspect(key: string): Promise<Inspection>
  on<E extends HerdEventName>(event: E, listener: HerdListener<E>): () => void
  stats(): HerdStats
  /**
   * Resolves once the herd listens to its Bus: `true` when the subscription
   * took (at once without a Bus), `false` when the first attempt failed (the
   * herd keeps retrying and serves meanwhile, protecting keys in this
   * process) or it closed first. Never rejects. Until it resolves `true`,
   * another process's invalidation may go unheard, so a start-up that must
   * not serve a stale local copy awaits it. It also waits for the Lock's
   * `ready()` where it has one (the Redis Lock's wake-up subscription), and,
   * with a Store, for a read of the namespace's tag record (which every
   * entry read checks), so the first miss or read after a start doesn't pay
   * for either; neither changes the answer (waits fall back on checks, and a
   * read that finds the record unread reads it first).
   */
  ready(): Promise<boolean>
  /** Clears every timer and listener, aborts loads, closes adapters. Later calls reject with HerdClosedError. */
  close(): Promise<void>
  /** This herd's id on the Bus. */
  readonly id: string
}

export function createHerd(options: HerdOptions = {}): Herd {
  return new HerdPipeline(options)
}
