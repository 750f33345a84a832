import type { Cancel } from './cancel.js'

type Release = () => void
const NOTHING: Release = () => {}

/** At most `limit` runs at once in this process (loader runs, or background refreshes); the rest queue in order. */
export class Bulkhead {
  private taken = 0
  private readonly queue: Array<{ start: () => void }> = []

  constructor(private readonly limit: number) {}

  /** Slots taken right now (0 when unbounded: nothing is counted then). */
  get running(): number {
    return this.taken
  }

  /** Waiting for a slot right now. */
  get waiting(): number {
    return this.queue.length
  }

  /** Resolves with a release function once a slot is free; rejects with the signal's reason if it aborts first. */
  acquire(signal: Cancel): Promise<Release> {
    if (this.limit === Infinity) return Promise.resolve(NOTHING)
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
    })
  }

  /** Runs `work` once a slot is free and frees it when `work` settles; rejects with the signal's reason if it aborts first. */
  async run<T>(signal: Cancel, work: () => Promise<T>): Promise<T> {
    const free = await this.acquire(signal)
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
      this.queue.shift()?.start()
    }
  }
}
