export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** A loader that counts its calls and resolves `value` after `ms`. */
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

/** Settles within `ms` or reports which promises are still pending. */
export async function allSettleWithin(promises: Promise<unknown>[], ms: number): Promise<PromiseSettledResult<unknown>[]> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`promises still pending after ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([Promise.allSettled(promises), timeout])
  } finally {
    clearTimeout(timer)
  }
}
