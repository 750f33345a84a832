type Release = () => void
const NOTHING: Release = () => {}

/** At most `limit` loader runs at once in this process; the rest queue in order. */
export class Bulkhead {
  private running = 0
  private readonly queue: Array<{ start: () => void; signal: AbortSignal }> = []

  constructor(private readonly limit: number) {}

  /** Resolves with a release function once a slot is free; rejects with the signal's reason if it aborts first. */
  acquire(signal: AbortSignal): Promise<Release> {
    if (this.limit === Infinity) return Promise.resolve(NOTHING)
    if (signal.aborted) return Promise.reject(signal.reason)
    if (this.running < this.limit) {
      this.running++
      return Promise.resolve(this.releaser())
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        signal,
        start: () => {
          signal.removeEventListener('abort', onAbort)
          this.running++
          resolve(this.releaser())
        },
      }
      const onAbort = () => {
        this.queue.splice(this.queue.indexOf(waiter), 1)
        reject(signal.reason)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.queue.push(waiter)
    })
  }

  private releaser(): Release {
    let released = false
    return () => {
      if (released) return
      released = true
      this.running--
      this.queue.shift()?.start()
    }
  }
}
