/**
 * Where a write's fence came from, which decides where the write may go:
 * - `fleet`: the fleet's own order (the Lock's sequence, or, with no Lock
 *   configured, every process's clock-based fences): the shared tier may
 *   receive it.
 * - `local`: made by this process because the Lock could not be reached. It
 *   orders writes inside this process only; sent to the shared tier it could
 *   outrank the fleet's fences and block their writes, so it never is.
 */
export type Fence = { readonly kind: 'fleet'; readonly value: number } | { readonly kind: 'local'; readonly value: number }

/**
 * Fences made in this process: strictly increasing, and from the clock (µs
 * since the epoch) rather than from 0, so they keep rising across restarts
 * and roughly order writes by time across processes. Number.MAX_SAFE_INTEGER
 * in µs is the year 2255.
 */
export class LocalFences {
  private last = 0

  next(now: number): number {
    this.last = Math.max(this.last + 1, Math.floor(now * 1000))
    return this.last
  }
}
