/**
 * N concurrent callers, each arriving as its own macrotask (as requests do
 * in a server: one socket read each), all within the same event-loop turn.
 * Each caller's latency runs from its own call to its own result, so a
 * caller is not charged for the time it took to start the others.
 */
export interface BurstResult {
  /** Per caller, ms from its call to its result. */
  latencies: number[]
  /** Per caller, epoch ms (sub-ms precision) when its result arrived. */
  resolvedAt: number[]
  /** ms from the first call to the last result. */
  totalMs: number
  errors: number
  firstError?: unknown
}

/** Epoch ms with sub-ms precision that is comparable across processes on one machine. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now()
}

export function burst(n: number, call: (i: number) => Promise<unknown>): Promise<BurstResult> {
  const latencies = new Array<number>(n)
  const resolvedAt = new Array<number>(n)
  let pending = n
  let errors = 0
  let firstError: unknown
  const started = performance.now()
  return new Promise((resolve) => {
    const finish = () => {
      if (--pending === 0) resolve({ latencies, resolvedAt, totalMs: performance.now() - started, errors, firstError })
    }
    for (let i = 0; i < n; i++) {
      setImmediate(() => {
        const t0 = performance.now()
        let p: Promise<unknown>
        try {
          p = call(i)
        } catch (error) {
          p = Promise.reject(error)
        }
        p.then(
          () => {
            const t1 = performance.now()
            latencies[i] = t1 - t0
            resolvedAt[i] = performance.timeOrigin + t1
            finish()
          },
          (error: unknown) => {
            const t1 = performance.now()
            latencies[i] = t1 - t0
            resolvedAt[i] = performance.timeOrigin + t1
            errors++
            firstError ??= error
            finish()
          },
        )
      })
    }
  })
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Polls `check` every `everyMs` until it is true or `timeoutMs` passes; resolves whether it became true. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 10): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (performance.now() > deadline) return false
    await sleep(everyMs)
  }
}
