import { HerdEncodeError } from '../errors.js'
import type { ResolvedEntryOptions } from '../options.js'
import { BYPASS } from './backend-guard.js'
import type { HerdContext } from './context.js'
import { buildEntry, type Entry, toStored } from './entry.js'

/**
 * Encodes before anything is written, and on every backend (the local tier
 * too), so a value the codec can't round-trip fails the same way everywhere
 * and nothing half-written is left behind.
 */
export function encodeValue(h: HerdContext, value: unknown): string {
  if (value === undefined) return ''
  try {
    return h.codec.encode(value)
  } catch (error) {
    if (error instanceof HerdEncodeError) throw error
    throw new HerdEncodeError(`herd: the codec could not encode this value: ${(error as Error)?.message ?? String(error)}`, { cause: error })
  }
}

/**
 * The fence for a write made without a lease (set, delete). With a Lock the
 * fleet shares one sequence; when the Lock can't be reached the result is
 * undefined and the write stays in this process, because a locally made
 * fence could outrank the fleet's and block its writes.
 */
export async function writeFence(h: HerdContext, key: string): Promise<number | undefined> {
  const lock = h.lock
  if (lock === undefined) return h.nextLocalFence()
  const fence = await h.guard.run('lock', key, () => lock.fence(key))
  return fence === BYPASS ? undefined : fence
}

/**
 * Writes a loaded or set value to the Store (fenced), the local tier, and
 * tells other processes to drop their copy. `fence` undefined means "this
 * process only". Resolves whether the write stood (false when a newer fence
 * had already written).
 */
export async function writeEntry(
  h: HerdContext,
  key: string,
  value: unknown,
  encoded: string,
  o: ResolvedEntryOptions,
  fence: number | undefined,
  loadMs: number,
  kind: 'load' | 'set',
  now = Date.now(),
): Promise<boolean> {
  const entry = buildEntry(value, o, fence ?? 0, now, loadMs)
  if (entry === undefined) return true
  return commit(h, key, entry, encoded, fence, now, entry.errorUntil, kind)
}

export async function commit(
  h: HerdContext,
  key: string,
  entry: Entry,
  encoded: string,
  fence: number | undefined,
  now: number,
  keepUntil: number,
  kind: 'load' | 'set' | 'delete',
): Promise<boolean> {
  const store = h.store
  let accepted = true
  if (store !== undefined && fence !== undefined) {
    const ttlMs = Math.max(1, keepUntil - now)
    const result = await h.guard.run('store', key, () => store.set(key, toStored(entry, encoded), ttlMs))
    if (result === false) {
      accepted = false
      h.counters.fencedOut++
    }
    if (result !== BYPASS && h.emitter.has('write')) h.emitter.emit('write', { key, kind, accepted })
  }
  if (accepted) {
    h.local?.set(key, entry, now, kind === 'delete' ? keepUntil : undefined)
    h.publish(kind === 'delete' ? 'delete' : 'set', key)
  }
  return accepted
}
