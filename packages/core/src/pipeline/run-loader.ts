import { describe, toMs } from '../duration.js'
import type { Cancel } from './cancel.js'
import { HerdArgumentError } from '../errors.js'
import {
  type BatchLoader,
  type BatchLoaderContext,
  type EntrySetters,
  type Loader,
  type LoaderContext,
  MAX_TAGS_PER_ENTRY,
  type ResolvedEntryOptions,
  tagList,
} from '../options.js'

export interface LoadOutcome<T> {
  value: T
  loadMs: number
  /** What the loader set through ctx.setTtl / ctx.setOptions (adaptive TTL); `tags` are the ones ctx.setTags added. */
  overrides: Partial<ResolvedEntryOptions> | undefined
}

/** Calls the loader once for `key`. */
export function runLoader<T>(loader: Loader<T>, key: string, signal: Cancel, stale: T | undefined): Promise<LoadOutcome<T>> {
  const setters = entrySetters()
  const context: LoaderContext<T> = {
    key,
    // Made when the loader reads it: most never do, and an AbortSignal is the costliest part of a load's setup.
    get signal() {
      return signal.signal
    },
    stale,
    ...setters.context,
  }
  return settle(signal, () => loader(context), setters)
}

/** Calls a batch loader once for `keys` (fetchMany). */
export function runBatchLoader<T>(
  loader: BatchLoader<T>,
  keys: readonly string[],
  signal: Cancel,
  stale: ReadonlyMap<string, T>,
): Promise<LoadOutcome<ReadonlyMap<string, T> | ReadonlyArray<T>>> {
  const setters = entrySetters()
  const context: BatchLoaderContext<T> = {
    keys,
    get signal() {
      return signal.signal
    },
    stale,
    ...setters.context,
  }
  return settle(signal, () => loader(keys, context), setters)
}

/**
 * Runs `call` once. A synchronous throw becomes a rejection, and an aborted
 * signal settles the call at once even when the loader ignores it, so a hung
 * loader never holds a caller past the hard timeout.
 */
function settle<R>(
  signal: Cancel,
  call: () => R | Promise<R>,
  setters: { overrides(): Partial<ResolvedEntryOptions> | undefined },
): Promise<LoadOutcome<R>> {
  if (signal.aborted) return Promise.reject(signal.reason)
  const started = performance.now()
  return new Promise<LoadOutcome<R>>((resolve, reject) => {
    const stopListening = signal.onAbort(reject)
    let pending: R | Promise<R>
    try {
      pending = call()
    } catch (error) {
      stopListening()
      reject(error)
      return
    }
    Promise.resolve(pending).then(
      (value) => {
        stopListening()
        resolve({ value, loadMs: performance.now() - started, overrides: setters.overrides() })
      },
      (error: unknown) => {
        stopListening()
        reject(error)
      },
    )
  })
}

/** ctx.setTtl, ctx.setOptions and ctx.setTags, each checked at the call, and what they set. */
function entrySetters(): { context: EntrySetters; overrides(): Partial<ResolvedEntryOptions> | undefined } {
  let overrides: Partial<ResolvedEntryOptions> | undefined
  return {
    overrides: () => overrides,
    context: {
      setTtl(value) {
        overrides = { ...overrides, ttl: toMs(value, 'setTtl()') }
      },
      setOptions(options) {
        if (options === null || typeof options !== 'object') {
          throw new HerdArgumentError(`herd: setOptions() needs an object; got ${describe(options)}`)
        }
        const next = { ...overrides }
        if (options.ttl !== undefined) next.ttl = toMs(options.ttl, 'setOptions() ttl')
        if (options.staleWhileRevalidate !== undefined) next.staleWhileRevalidate = toMs(options.staleWhileRevalidate, 'setOptions() staleWhileRevalidate')
        if (options.staleIfError !== undefined) next.staleIfError = toMs(options.staleIfError, 'setOptions() staleIfError')
        overrides = next
      },
      setTags(tags) {
        const added = tagList(tags, 'setTags()', MAX_TAGS_PER_ENTRY)
        if (added !== undefined) overrides = { ...overrides, tags: [...(overrides?.tags ?? []), ...added] }
      },
    },
  }
}
