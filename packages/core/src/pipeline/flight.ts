import type { Tier } from '../events.js'
import type { FetchResult, FetchStatus } from '../options.js'
import type { Entry } from './entry.js'

/**
 * The one piece of work under way for a key in this process: a Store read,
 * a lock wait, a load or a refresh. Every concurrent caller of the key joins
 * it. Its result may come early (a stale value) while the work goes on.
 */
export class Flight<T = unknown> {
  readonly controller = new AbortController()
  readonly result: Promise<FetchResult<T>>
  settled = false
  /** A value past its stale window that may still stand in if the load fails or is slow. */
  fallback: Entry | undefined
  fallbackTier: Tier = 'local'
  /** Cleared when the work ends or the herd closes. */
  timer: ReturnType<typeof setTimeout> | undefined
  private resolve!: (result: FetchResult<T>) => void
  private reject!: (error: unknown) => void
  /** A caller without a signal can't leave, so the shared work must not be cancelled for lack of waiters. */
  private pinned = false
  private abortable = 0

  constructor(readonly key: string) {
    this.result = new Promise((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    // Callers that joined handle the rejection; the flight itself must not raise an unhandled one.
    this.result.catch(() => {})
  }

  get signal(): AbortSignal {
    return this.controller.signal
  }

  provide(value: T | undefined, status: FetchStatus, createdAt: number): void {
    if (this.settled) return
    this.settled = true
    this.resolve({ value, status, createdAt })
  }

  fail(error: unknown): void {
    if (this.settled) return
    this.settled = true
    this.reject(error)
  }

  /**
   * The caller's view of the result. A caller whose `signal` aborts stops
   * waiting at once; the work is aborted only when every caller has gone.
   */
  join(signal: AbortSignal | undefined): Promise<FetchResult<T>> {
    if (signal === undefined || this.settled) {
      this.pinned = true
      return this.result
    }
    if (signal.aborted) return Promise.reject(signal.reason)
    this.abortable++
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.abortable--
        reject(signal.reason)
        if (!this.pinned && this.abortable === 0 && !this.settled) {
          this.controller.abort(new DOMException('every caller of this key has gone', 'AbortError'))
        }
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.result.then(
        (value) => {
          signal.removeEventListener('abort', onAbort)
          this.abortable--
          resolve(value)
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort)
          this.abortable--
          reject(error)
        },
      )
    })
  }
}
