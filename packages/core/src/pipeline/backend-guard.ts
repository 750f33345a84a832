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

/**
 * Runs every Store and Lock call through the circuit breaker with a timeout,
 * so a down, slow or flapping backend costs latency, never an error: the
 * caller gets BYPASS and carries on with in-process protection.
 */
export class BackendGuard {
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
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      const pending = op()
      const result = await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new BackendTimeoutError(source, timeoutMs)), timeoutMs)
        }),
      ])
      this.breaker?.success()
      return result
    } catch (error) {
      this.breaker?.failure()
      this.onFailure(source, key, error)
      return BYPASS
    } finally {
      clearTimeout(timer)
    }
  }
}
