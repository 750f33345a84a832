import { HerdDecodeError } from '../errors.js'
import { BYPASS } from './backend-guard.js'
import type { HerdContext } from './context.js'
import { type Entry, fromStored } from './entry.js'

/**
 * One Store read, decoded. A failing Store or an open breaker reads as a
 * miss; bytes the codec can't read are a miss plus an `error` event.
 */
export async function readStore(h: HerdContext, key: string): Promise<Entry | undefined> {
  const store = h.store
  if (store === undefined) return undefined
  const stored = await h.guard.run('store', key, () => store.get(key))
  if (stored === BYPASS || stored === undefined || stored === null) return undefined
  if (stored.negative === true) return fromStored(stored, undefined)
  try {
    return fromStored(stored, h.codec.decode(stored.value))
  } catch (error) {
    h.reportError(
      key,
      'codec',
      error instanceof HerdDecodeError ? error : new HerdDecodeError(`herd: could not decode the entry for "${key}"`, { cause: error }),
    )
    return undefined
  }
}
