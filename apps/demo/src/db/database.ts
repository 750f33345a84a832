/** A raw connection to Postgres: PGlite in its thread, or a `pg` pool. */
export interface Driver {
  /** Shown on the dashboard. */
  readonly description: string
  query(sql: string, params: readonly unknown[]): Promise<Record<string, unknown>[]>
  /** Runs a script of several statements (schema, seed). */
  exec(sql: string): Promise<void>
  close(): Promise<void>
}

export interface DbStats {
  description: string
  /** Connection budget: queries that may be running at once. */
  budget: number
  /** Queries issued since start, in total and by label. */
  total: number
  byLabel: Record<string, number>
  /** Queries finished (answered or failed): the database's throughput. */
  completed: number
  /** Holding one of the budget's slots. */
  running: number
  /** Queued for a slot. */
  waiting: number
}

/**
 * The application's view of the database: every query goes through a small
 * connection budget (as a production pool of 5 would) and is counted by
 * label, so a burst can say exactly how many leaderboard queries it caused.
 */
export class Database {
  private readonly byLabel: Record<string, number> = {}
  private total = 0
  private completed = 0
  private running = 0
  private readonly queue: Array<() => void> = []
  private idleWaiters: Array<() => void> = []

  constructor(
    private readonly driver: Driver,
    readonly budget: number,
  ) {}

  async query<Row>(label: string, sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    this.total++
    this.byLabel[label] = (this.byLabel[label] ?? 0) + 1
    await this.acquire()
    try {
      return (await this.driver.query(sql, params)) as Row[]
    } finally {
      this.completed++
      this.release()
    }
  }

  stats(): DbStats {
    return {
      description: this.driver.description,
      budget: this.budget,
      total: this.total,
      byLabel: { ...this.byLabel },
      completed: this.completed,
      running: this.running,
      waiting: this.queue.length,
    }
  }

  /** Resolves once no query is running or queued (or after `timeoutMs`, whichever is first). */
  idle(timeoutMs: number): Promise<void> {
    if (this.running === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.idleWaiters.push(done)
    })
  }

  close(): Promise<void> {
    return this.driver.close()
  }

  private acquire(): Promise<void> {
    if (this.running < this.budget) {
      this.running++
      return Promise.resolve()
    }
    // The slot is handed over in release(), so `running` never drops in between.
    return new Promise((resolve) => this.queue.push(resolve))
  }

  private release(): void {
    const next = this.queue.shift()
    if (next) return next()
    this.running--
    if (this.running === 0) {
      const waiters = this.idleWaiters
      this.idleWaiters = []
      for (const done of waiters) done()
    }
  }
}
