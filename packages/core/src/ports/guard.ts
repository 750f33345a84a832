import { every, type Timer } from '../time/timers.js'
import type { Breaker } from './breaker.js'

export type Backend = 'store' | 'lock'

/** What a guarded backend call came to: its value, or nothing because the backend was skipped or failed. */
export type Guarded<R> = { readonly ok: true; readonly value: R } | { readonly ok: false }

const FAILED: Guarded<never> = { ok: false }

export class BackendTimeoutError extends Error {
  constructor(source: string, ms: number) {
    super(`herd: ${source} operation took longer than ${ms} ms`)
    this.name = 'BackendTimeoutError'
  }
}

interface Pending {
  deadline: number
  source: string
  timeoutMs: number
  timedOut: boolean
  reject: (error: unknown) => void
}

export interface GuardOptions<R> {
  timeoutMs?: number
  /** A result that arrived after the timeout (a lease granted too late must still be released). */
  onLate?: (value: R) => void
}

/**
 * Runs every Store and Lock call through the circuit breaker with a timeout,
 * so a down, slow or flapping backend costs latency, never an error: the
 * caller gets `{ ok: false }` and carries on with in-process protection.
 *
 * Timeouts share one sweeping interval, alive only while calls are in
 * flight, instead of a timer per call: a Store hit is a hot path, and a call
 * times out between its timeout and 1.1 × it.
 */
export class BackendGuard {
  private readonly pending = new Set<Pending>()
  private sweeper: Timer | undefined

  constructor(
    private readonly breaker: Breaker | undefined,
    private readonly timeoutMs: number,
    private readonly onFailure: (source: Backend, key: string, error: unknown) => void,
    private readonly onBypass: (source: Backend, key: string) => void,
  ) {}

  async run<R>(source: Backend, key: string, op: () => Promise<R>, options?: GuardOptions<R>): Promise<Guarded<R>> {
    if (this.breaker !== undefined && !this.breaker.allow()) {
      this.onBypass(source, key)
      return FAILED
    }
    try {
      const value = await this.bounded(op, source, options?.timeoutMs ?? this.timeoutMs, options?.onLate)
      this.breaker?.success()
      return { ok: true, value }
    } catch (error) {
      this.breaker?.failure()
      this.onFailure(source, key, error)
      return FAILED
    }
  }

  /** Stops the sweeper (on close, or when nothing is in flight). */
  stop(): void {
    this.sweeper?.cancel()
    this.sweeper = undefined
  }

  private bounded<R>(op: () => Promise<R>, source: string, timeoutMs: number, onLate: ((value: R) => void) | undefined): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const entry: Pending = { deadline: Date.now() + timeoutMs, source, timeoutMs, timedOut: false, reject }
      this.pending.add(entry)
      this.sweeper ??= this.startSweeper()
      let call: Promise<R>
      try {
        call = op()
      } catch (error) {
        this.pending.delete(entry)
        reject(error)
        return
      }
      call.then(
        (value) => {
          this.pending.delete(entry)
          if (entry.timedOut) onLate?.(value)
          else resolve(value)
        },
        (error: unknown) => {
          this.pending.delete(entry)
          reject(error)
        },
      )
    })
  }

  private startSweeper(): Timer {
    return every(Math.max(1, Math.ceil(this.timeoutMs / 10)), () => {
      const now = Date.now()
      for (const entry of this.pending) {
        if (entry.deadline > now) continue
        this.pending.delete(entry)
        entry.timedOut = true
        entry.reject(new BackendTimeoutError(entry.source, entry.timeoutMs))
      }
      if (this.pending.size === 0) this.stop()
    })
  }
}
