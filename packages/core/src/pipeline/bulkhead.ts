import type { Cancel } from './cancel.js'

type Release = () => void

/**
 * At most `limit` runs at once in this process (loader runs, or background
 * refreshes); the rest queue in order. A queued run can be started at once,
 * past the bound, when something in the foreground waits on it.
 */
export class Bulkhead {
  private taken = 0
  private readonly queue: Array<{ start: () => void }> = []

  constructor(private readonly limit: number) {}

  /** Runs under way right now. */
  get running(): number {
    return this.taken
  }

  /** Waiting for a slot right now. */
  get waiting(): number {
    return this.queue.length
  }

  /**
   * Resolves with a release function once a slot is free; rejects with the
   * signal's reason if it aborts first. `onQueued` gets, if it has to wait,
   * a function that starts it at once.
   */
  acquire(signal: Cancel, onQueued?: (jump: () => void) => void): Promise<Release> {
    if (signal.aborted) return Promise.reject(signal.reason)
    if (this.taken < this.limit) {
      this.taken++
      return Promise.resolve(this.releaser())
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        start: () => {
          stopListening()
          this.taken++
          resolve(this.releaser())
        },
      }
      const stopListening = signal.onAbort((reason) => {
        this.queue.splice(this.queue.indexOf(waiter), 1)
        reject(reason)
      })
      this.queue.push(waiter)
      onQueued?.(() => {
        const at = this.queue.indexOf(waiter)
        if (at < 0) return
        this.queue.splice(at, 1)
        waiter.start()
      })
    })
  }

  /** Runs `work` once a slot is free and frees it when `work` settles; rejects with the signal's reason if it aborts first. */
  async run<T>(signal: Cancel, work: () => Promise<T>, onQueued?: (jump: () => void) => void): Promise<T> {
    const free = await this.acquire(signal, onQueued)
    try {
      return await work()
    } finally {
      free()
    }
  }

  private releaser(): Release {
    let released = false
    return () => {
      if (released) return
      released = true
      this.taken--
      // Not while runs started past the bound still hold the slots.
      if (this.taken < this.limit) this.queue.shift()?.start()
    }
  }
}
