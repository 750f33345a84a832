import { describe, toMs } from '../duration.js'
import { HerdArgumentError } from '../errors.js'
import { type Loader, type LoaderContext, MAX_TAGS_PER_ENTRY, type ResolvedEntryOptions, tagList } from '../options.js'

export interface LoadOutcome<T> {
  value: T | undefined
  loadMs: number
  /** What the loader set through ctx.setTtl / ctx.setOptions (adaptive TTL); `tags` are the ones ctx.setTags added. */
  overrides: Partial<ResolvedEntryOptions> | undefined
}

/**
 * Calls the loader once. A synchronous throw becomes a rejection, and an
 * aborted signal settles the call at once even when the loader ignores it,
 * so a hung loader never holds a caller past the hard timeout.
 */
export function runLoader<T>(loader: Loader<T>, key: string, signal: AbortSignal, stale: T | undefined): Promise<LoadOutcome<T>> {
  if (signal.aborted) return Promise.reject(signal.reason)
  let overrides: Partial<ResolvedEntryOptions> | undefined
  const context: LoaderContext<T> = {
    key,
    signal,
    stale,
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
  }
  const started = performance.now()
  return new Promise<LoadOutcome<T>>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    let pending: T | undefined | Promise<T | undefined>
    try {
      pending = loader(context)
    } catch (error) {
      signal.removeEventListener('abort', onAbort)
      reject(error)
      return
    }
    Promise.resolve(pending).then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve({ value, loadMs: performance.now() - started, overrides })
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
