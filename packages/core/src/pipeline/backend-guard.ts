import type { Breaker } from './breaker.js'

/** Returned instead of a result when the backend was skipped or failed. */
export const BYPASS: unique symbol = Symbol('herd.bypass')
export type Bypass = typeof BYPASS

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
  reject: (error: unknown) => void
}

/**
 * Runs every Store and Lock call through the circuit breaker with a timeout,
 * so a down, slow or flapping backend costs latency, never an error: the
 * caller gets BYPASS and carries on with in-process protection.
 *
 * Timeouts share one sweeping interval, alive only while calls are in
 * flight, instead of a timer per call: a Store hit is a hot path, and a call
 * times out between its timeout and 1.1 × it.
 */
export class BackendGuard {
  private readonly pending = new Set<Pending>()
  private sweeper: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly breaker: Breaker | undefined,
    private readonly timeoutMs: number,
    private readonly onFailure: (source: 'store' | 'lock', key: string, error: unknown) => void,
    private readonly onBypass: (source: 'store' | 'lock', key: string) => void,
  ) {}

  async run<R>(source: 'store' | 'lock', key: string, op: () => Promise<R>, timeoutMs = this.timeoutMs): Promise<R | Bypass> {
    if (this.breaker !== undefined && !this.breaker.allow()) {
      this.onBypass(source, key)
      return BYPASS
    }
    try {
      const result = await this.bounded(op, source, timeoutMs)
      this.breaker?.success()
      return result
    } catch (error) {
      this.breaker?.failure()
      this.onFailure(source, key, error)
      return BYPASS
    }
  }

  /** Stops the sweeper (on close, or when nothing is in flight). */
  stop(): void {
    clearInterval(this.sweeper)
    this.sweeper = undefined
  }

  private bounded<R>(op: () => Promise<R>, source: string, timeoutMs: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const entry: Pending = { deadline: Date.now() + timeoutMs, source, timeoutMs, reject }
      this.pending.add(entry)
      this.sweeper ??= this.startSweeper()
      const settle = () => this.pending.delete(entry)
      let call: Promise<R>
      try {
        call = op()
      } catch (error) {
        settle()
        reject(error)
        return
      }
      call.then(
        (value) => {
          settle()
          resolve(value)
        },
        (error: unknown) => {
          settle()
          reject(error)
        },
      )
    })
  }

  private startSweeper(): ReturnType<typeof setInterval> {
    const sweeper = setInterval(
      () => {
        const now = Date.now()
        for (const entry of this.pending) {
          if (entry.deadline > now) continue
          this.pending.delete(entry)
          entry.reject(new BackendTimeoutError(entry.source, entry.timeoutMs))
        }
        if (this.pending.size === 0) this.stop()
      },
      Math.max(1, Math.ceil(this.timeoutMs / 10)),
    )
    sweeper.unref?.()
    return sweeper
  }
}
