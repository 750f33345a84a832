/**
 * The database every suite protects: at most `maxConcurrent` queries run at
 * once (a connection pool), each taking `queryMs`; the rest queue in order.
 * This is the scenario HerdLock's author published (5 connections, ~20 ms a
 * query): without stampede protection 1,000 callers cost 200 pool rounds.
 */
export interface DbOptions {
  maxConcurrent?: number
  queryMs?: number
}

export class Db {
  readonly maxConcurrent: number
  readonly queryMs: number
  /** Queries started since the last reset: the loader calls that reached the database. */
  queries = 0
  /** Most queries running or queued at once since the last reset. */
  peakQueued = 0
  private active = 0
  private readonly queue: Array<() => void> = []

  constructor(options: DbOptions = {}) {
    this.maxConcurrent = options.maxConcurrent ?? 5
    this.queryMs = options.queryMs ?? 20
  }

  /** Runs one query and resolves with `value` (a fresh object each time, as a driver would). */
  async query<T>(make: () => T): Promise<T> {
    this.queries++
    this.peakQueued = Math.max(this.peakQueued, this.active + this.queue.length + 1)
    if (this.active >= this.maxConcurrent) await new Promise<void>((resolve) => this.queue.push(resolve))
    this.active++
    try {
      await new Promise((resolve) => setTimeout(resolve, this.queryMs))
      return make()
    } finally {
      this.active--
      this.queue.shift()?.()
    }
  }

  reset(): void {
    this.queries = 0
    this.peakQueued = 0
  }
}

/** A typical cached row: small JSON-able object, as from a users table. */
export function row(key: string, version: number): { id: string; name: string; email: string; version: number; tags: string[] } {
  return { id: key, name: `User ${key}`, email: `${key}@example.com`, version, tags: ['a', 'b', 'c'] }
}
