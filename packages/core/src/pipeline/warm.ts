import { HerdArgumentError } from '../errors.js'
import type { WarmResult } from '../herd.js'
import { positiveInteger } from '../options.js'
import { assertKey } from '../validate.js'

/** Fetches every key, `concurrency` at a time, and reports which failed instead of stopping at the first. */
export async function warmKeys(keys: readonly string[], concurrency: unknown, fetch: (key: string) => Promise<unknown>): Promise<WarmResult> {
  if (!Array.isArray(keys)) throw new HerdArgumentError('herd: warm() needs an array of keys')
  for (const key of keys) assertKey(key, 'warm')
  const workers = positiveInteger(concurrency, 'concurrency')
  const result: WarmResult = { loaded: 0, failed: [] }
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const key = keys[next++]!
      try {
        await fetch(key)
        result.loaded++
      } catch (error) {
        result.failed.push({ key, error })
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(workers, keys.length) }, worker))
  return result
}
