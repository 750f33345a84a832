import { afterEach, beforeEach, vi } from 'vitest'

/**
 * Core's tests run on fake timers: Date, performance.now, setTimeout and
 * setInterval all follow a clock the test moves, so no test depends on how
 * fast a loaded machine runs. Call at the top of a test file.
 */
export function useFakeClock(): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'], now: Date.UTC(2026, 10, 29) })
  })
  afterEach(() => {
    // Runs what is due within a millisecond (the coarse clock's reset among them) before the fake timers are dropped.
    vi.advanceTimersByTime(1)
    vi.useRealTimers()
  })
}

/** Moves the clock `ms` forward, running every timer due and the promise work each one starts. */
export async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms)
}

/**
 * Moves the clock forward 1 ms at a time until `promise` settles, and
 * resolves (or rejects) with it; at most `limitMs` of fake time, so a
 * promise that never settles fails the test instead of hanging it.
 */
export async function settle<T>(promise: Promise<T>, limitMs = 60_000): Promise<T> {
  let done = false
  const tracked = promise.finally(() => {
    done = true
  })
  tracked.catch(() => {})
  for (let elapsed = 0; !done && elapsed < limitMs; elapsed++) await vi.advanceTimersByTimeAsync(1)
  if (!done) throw new Error(`still pending after ${limitMs} ms of fake time`)
  return tracked
}

/** Lets every pending promise callback run without moving the clock. */
export async function flush(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0)
}
