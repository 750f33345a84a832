import { toMs } from '../duration.js'
import type { Loader, LoaderContext } from '../options.js'

export interface LoadOutcome<T> {
  value: T | undefined
  loadMs: number
  /** Set by the loader through ctx.setTtl (adaptive TTL). */
  ttl: number | undefined
}

/**
 * Calls the loader once. A synchronous throw becomes a rejection, and an
 * aborted signal settles the call at once even when the loader ignores it,
 * so a hung loader never holds a caller past the hard timeout.
 */
export function runLoader<T>(loader: Loader<T>, key: string, signal: AbortSignal, stale: T | undefined): Promise<LoadOutcome<T>> {
  if (signal.aborted) return Promise.reject(signal.reason)
  let ttl: number | undefined
  const context: LoaderContext<T> = {
    key,
    signal,
    stale,
    setTtl(value) {
      ttl = toMs(value, 'setTtl()')
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
        resolve({ value, loadMs: performance.now() - started, ttl })
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
