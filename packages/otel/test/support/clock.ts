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
    vi.useRealTimers()
  })
}

/** Moves the fake clock 1 ms at a time until `promise` settles (at most `limitMs`), and returns its outcome. */
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
