import { HerdArgumentError } from '../errors.js'
import type { RecordKind } from '../keyspace.js'
import { type SetOptions, resolveEntryOptions, tagList } from '../options.js'
import { buildEntry, tombstone } from '../policies/freshness.js'
import type { Fence } from '../ports/fence.js'
import { assertKey } from '../validate.js'
import { commit } from './commit.js'
import type { HerdContext } from './context.js'
import { NAMESPACE_TAG } from './tag-states.js'

const SET_OPTION_KEYS: ReadonlySet<string> = new Set(['ttl', 'staleWhileRevalidate', 'staleIfError', 'jitter', 'tags'])

/** Write-through with a new fence: a load already in flight (older lease) can't overwrite it. */
export async function set(h: HerdContext, key: string, value: unknown, options: SetOptions | undefined): Promise<void> {
  h.assertOpen('set')
  assertKey(key, 'set')
  if (value === undefined) throw new HerdArgumentError('herd: set() needs a value; to remove a key use delete()')
  const o = options === undefined ? h.defaults : resolveEntryOptions(h.defaults, options, 'set()', SET_OPTION_KEYS)
  const encoded = h.tier.encode(value)
  const fence = await h.coordinator.fence(key)
  const now = h.clock.now()
  const entry = buildEntry(h.tier.roundTrip(encoded), o, fence.value, now, 0)
  if (entry !== undefined) await commit(h, key, entry, encoded, fence, undefined, 'set', now, entry.errorUntil)
}

/**
 * Marks the entry stale everywhere: the next read serves it and refreshes.
 * The expire takes a fence, so a load that began before it can't land
 * fresh after it: the Store raises the entry's fence, or, with no entry
 * there, keeps a tombstone for as long as such a load may run.
 */
export async function expire(h: HerdContext, key: string): Promise<void> {
  const { fence, now, keepUntil } = await invalidation(h, key, 'expire')
  await h.observer.traceWrite(key, 'expire', async (context) => {
    const marked = await h.tier.markStale(key, now, fence)
    let reached = marked !== 'local-only'
    if (marked === 'absent' && fence.kind === 'fleet') {
      reached = (await h.tier.write(key, tombstone(fence.value, now), '', fence, keepUntil, now, 'expire')) !== 'local-only'
    }
    h.local?.markStale(key, fence.value, now, keepUntil)
    if (reached) h.bus.publish('expire', key)
    if (context !== undefined) context.outcome = reached ? 'written' : 'local-only'
  })
}

/** Removes the entry everywhere, local tiers included; a fenced tombstone keeps a load in flight from bringing it back. */
export async function remove(h: HerdContext, key: string): Promise<void> {
  const { fence, now, keepUntil } = await invalidation(h, key, 'delete')
  const gone = tombstone(fence.value, now)
  if (fence.kind === 'fleet') {
    await commit(h, key, gone, '', fence, undefined, 'delete', now, keepUntil)
    return
  }
  // No fleet fence to guard a tombstone with (the Lock is unreachable): a plain delete is the best the Store can get.
  await h.observer.traceWrite(key, 'delete', async (context) => {
    const removed = await h.tier.remove(key)
    h.local?.put(key, gone, now, keepUntil)
    if (removed === 'written') h.bus.publish('delete', key)
    if (context !== undefined) context.outcome = removed
  })
}

/** What an invalidation needs: a checked key, a fence newer than any load in flight, and how long its tombstone must last. */
async function invalidation(h: HerdContext, key: string, operation: string): Promise<{ fence: Fence; now: number; keepUntil: number }> {
  h.assertOpen(operation)
  assertKey(key, operation)
  const fence = await h.coordinator.fence(key)
  const now = h.clock.now()
  return { fence, now, keepUntil: now + h.tombstoneMs }
}

/** Most tags one expireTags / deleteTags call takes: each is a write and a message. */
const MAX_TAGS_PER_CALL = 1_000

/**
 * expireTags / deleteTags: raises each tag's record to now, here at once
 * (this process's reads see it immediately), in the shared tier (one write
 * per tag, whatever the number of entries), and over the Bus. Entries are
 * checked against it on read (see TagStates), so a load in flight that began
 * before now can't land fresh after it.
 */
export async function invalidateTags(h: HerdContext, tags: readonly string[], kind: RecordKind, operation: string): Promise<void> {
  h.assertOpen(operation)
  const list = tagList(tags, `${operation}()`, MAX_TAGS_PER_CALL) ?? []
  await raise(h, list, kind, operation)
}

/** Every entry of this herd's namespace gone, in every process: the namespace's own record, deleted. */
export async function clear(h: HerdContext): Promise<void> {
  h.assertOpen('clear')
  h.local?.clear()
  await raise(h, [NAMESPACE_TAG], 'deleted', 'clear')
}

async function raise(h: HerdContext, tags: readonly string[], kind: RecordKind, operation: string): Promise<void> {
  const at = h.clock.now()
  for (const tag of tags) h.tags.raise(tag, kind, at, at)
  await Promise.all(
    tags.map((tag) =>
      h.observer.traceWrite(tag, operation === 'clear' ? 'delete' : kind === 'expired' ? 'expire' : 'delete', async (context) => {
        const written = await h.tier.raiseRecord(kind, tag, at, h.longestLifetimeMs)
        if (written === 'written') h.bus.invalidate(kind, tag, at)
        if (context !== undefined) context.outcome = written
      }),
    ),
  )
}
