import type { Batch, BatchOptions } from '../herd.js'
import { toMs } from '../duration.js'
import { HerdArgumentError } from '../errors.js'
import type { BatchLoader, FetchManyOptions } from '../options.js'
import { after, type Timer } from '../time/timers.js'
import { assertKey, assertLoader, assertSignal } from '../validate.js'

type FetchMany = <T>(keys: readonly string[], loader: BatchLoader<T>, options: FetchManyOptions) => Promise<T[]>

interface Waiting {
  readonly key: string
  resolve(value: unknown): void
  reject(error: unknown): void
}

/**
 * Gathers single fetches made within `batchWindow` into one fetchMany. Each
 * caller may leave with its own signal; the batch goes on for the others.
 * The batch's options (ttl, tags…) apply to every key it loads.
 */
export function createBatch<T>(
  fetchMany: FetchMany,
  loader: BatchLoader<T>,
  options: BatchOptions = {},
  fresh: (key: string) => { value: unknown } | undefined = () => undefined,
): Batch<T> {
  assertLoader(loader, 'batch')
  if (options === null || typeof options !== 'object') throw new HerdArgumentError('herd: batch() options must be an object')
  const { batchWindow, ...manyOptions } = options
  const windowMs = batchWindow === undefined ? 0 : toMs(batchWindow, 'batchWindow')
  const maxBatch = manyOptions.maxBatch ?? Number.POSITIVE_INFINITY
  let waiting: Waiting[] = []
  let timer: Timer | undefined

  const flush = (): void => {
    timer?.cancel()
    timer = undefined
    const batch = waiting
    waiting = []
    const keys = [...new Set(batch.map((w) => w.key))]
    fetchMany(keys, loader, manyOptions).then(
      (values) => {
        const byKey = new Map(keys.map((key, i) => [key, values[i]]))
        for (const w of batch) w.resolve(byKey.get(w.key))
      },
      // One key's failure fails this gathered call for everyone in it, as fetchMany does; each can fetch again.
      (error: unknown) => {
        for (const w of batch) w.reject(error)
      },
    )
  }

  return {
    fetch(key, callOptions) {
      try {
        assertKey(key, 'batch.fetch')
        assertSignal(callOptions?.signal)
      } catch (error) {
        return Promise.reject(error)
      }
      const signal = callOptions?.signal
      if (signal?.aborted) return Promise.reject(signal.reason)
      // A fresh local hit needs no batch and no window.
      const hit = fresh(key)
      if (hit !== undefined) return Promise.resolve(hit.value as T)
      return new Promise<T>((resolve, reject) => {
        const onAbort = (): void => reject(signal!.reason)
        signal?.addEventListener('abort', onAbort, { once: true })
        const done = (): void => signal?.removeEventListener('abort', onAbort)
        waiting.push({
          key,
          resolve: (value) => {
            done()
            resolve(value as T)
          },
          reject: (error) => {
            done()
            reject(error)
          },
        })
        if (waiting.length >= maxBatch) flush()
        else timer ??= after(windowMs, flush, true)
      })
    },
    fetchMany(keys, callOptions) {
      return fetchMany(keys, loader, { ...manyOptions, ...(callOptions?.signal === undefined ? {} : { signal: callOptions.signal }) })
    },
  }
}
