import { setTimeout as realSetTimeout } from 'node:timers/promises'

/** Waits `ms` on the (fake) clock: only ever awaited together with advance() or settle(). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** A loader that counts its calls and resolves `value` after `ms` (of fake time). */
export function countingLoader<T>(value: T | ((call: number) => T), ms = 0) {
  const loader = Object.assign(
    async () => {
      loader.calls++
      const call = loader.calls
      if (ms > 0) await sleep(ms)
      return typeof value === 'function' ? (value as (call: number) => T)(call) : value
    },
    { calls: 0 },
  )
  return loader
}

/** A promise the test resolves when it chooses: a barrier for a loader or a backend. */
export function gate<T = void>(): { promise: Promise<T>; open(value: T): void; fail(error: unknown): void } {
  let open!: (value: T) => void
  let fail!: (error: unknown) => void
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve
    fail = reject
  })
  return { promise, open, fail }
}

/** Real time, for the few tests that measure memory or run real I/O. */
export const realSleep = (ms: number) => realSetTimeout(ms)
