import { afterEach, beforeEach, vi } from 'vitest'

/**
 * Fake timers for a test file: Date, performance.now and the timers follow
 * a clock the test moves, so a loader "takes" exactly the milliseconds the
 * test says and no assertion depends on how fast the machine is.
 */
export function useFakeClock(): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'], now: Date.UTC(2026, 10, 29) })
  })
  afterEach(() => {
    // Runs what is due within a millisecond before the fake timers are dropped: among it the reset of core's coarse
    // clock (a 1 ms timer), whose cached reading would otherwise carry into the next test, so an entry the test made
    // stale by moving the clock would still read as fresh.
    vi.advanceTimersByTime(1)
    vi.useRealTimers()
  })
}

/**
 * Runs the fake clock from one timer to the next until `promise` settles,
 * and returns its outcome: a loader sleeping 30 ms takes exactly 30 ms. At
 * most `limit` timers, so a promise that never settles fails the test.
 */
export async function settle<T>(promise: Promise<T>, limit = 10_000): Promise<T> {
  let settled = false
  const watched = promise.finally(() => {
    settled = true
  })
  watched.catch(() => {})
  await vi.advanceTimersByTimeAsync(0)
  for (let timers = 0; !settled; timers++) {
    if (timers === limit) throw new Error(`still pending after ${limit} timers of fake time`)
    await vi.advanceTimersToNextTimerAsync()
  }
  return watched
}

/** Moves the fake clock `ms` forward, running the timers due and the promise work they start. */
export const advance = (ms: number): Promise<void> => vi.advanceTimersByTimeAsync(ms).then(() => {})

/** A loader that resolves `value` after `ms` of fake time, counting its calls. */
export function slowLoader<T>(value: T, ms: number) {
  const loader = Object.assign(
    async () => {
      loader.calls++
      await new Promise((resolve) => setTimeout(resolve, ms))
      return value
    },
    { calls: 0 },
  )
  return loader
}

/** A promise the test settles when it chooses: a barrier. */
export function gate<T>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void
  const promise = new Promise<T>((resolve) => (open = resolve))
  return { promise, open }
}
