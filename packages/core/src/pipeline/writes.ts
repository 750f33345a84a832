import { describe } from '../duration.js'
import { HerdArgumentError, HerdUnavailableError } from '../errors.js'
import type { RecordKind } from '../keyspace.js'
import { type InvalidateOptions, type SetOptions, resolveEntryOptions, tagList } from '../options.js'
import { buildEntry, tombstone } from '../policies/freshness.js'
import type { Fence } from '../ports/fence.js'
import { assertKey } from '../validate.js'
import { commit } from './commit.js'
import type { HerdContext } from './context.js'
import type { PendingOperation } from './recovery.js'
import { NAMESPACE_TAG } from './tag-states.js'

const SET_OPTION_KEYS: ReadonlySet<string> = new Set(['ttl', 'staleWhileRevalidate', 'staleIfError', 'jitter', 'tags', 'strict'])

/**
 * Write-through with a new fence: a load already in flight (older lease)
 * can't overwrite it. If the Store can't take it, this process serves it at
 * once and it is replayed when the Store is back (or, with `strict`, the
 * call rejects and nothing changes).
 */
export async function set(h: HerdContext, key: string, value: unknown, options: SetOptions | undefined): Promise<void> {
  h.assertOpen('set')
  assertKey(key, 'set')
  if (value === undefined) throw new HerdArgumentError('herd: set() needs a value; to remove a key use delete()')
  const o = options === undefined ? h.defaults : resolveEntryOptions(h.defaults, options, 'set()', SET_OPTION_KEYS)
  const strict = strictOf(options, 'set()', SET_OPTION_KEYS)
  const encoded = h.tier.encode(value)
  const fence = await h.coordinator.writeFence(key)
  const now = h.clock.now()
  const entry = buildEntry(h.tier.roundTrip(encoded, value), o, fence === 'next' ? 0 : fence.value, now, 0)
  if (entry === undefined) return
  entry.size = encoded.length
  const written = await commit(h, { key, entry, encoded, fence, kind: 'set', now, keepUntil: entry.errorUntil, strict })
  if (written === 'local-only') unreached(h, strict, 'set', key, { kind: 'set', key, entry, encoded, at: now })
}

/**
 * Marks the entry stale everywhere: the next read serves it and refreshes.
 * The expire takes a fence, so a load that began before it can't land
 * fresh after it: the Store raises the entry's fence, or, with no entry
 * there, keeps a tombstone for as long as such a load may run.
 */
export async function expire(h: HerdContext, key: string, options?: InvalidateOptions): Promise<void> {
  const { fence, now, keepUntil, strict } = await invalidation(h, key, 'expire', options)
  const reached = await h.observer.traceWrite(key, 'expire', async (context) => {
    const marked = await h.tier.markStale(key, now, fence)
    let written = marked !== 'local-only'
    if (marked === 'absent' && fence.kind === 'fleet') {
      written = (await h.tier.write({ key, entry: tombstone(fence.value, now), encoded: '', fence, keepUntil, now, kind: 'expire' })) !== 'local-only'
    }
    h.local?.markStale(key, fence.value, now, keepUntil)
    if (written) h.bus.publish('expire', key)
    if (context !== undefined) context.outcome = written ? 'written' : 'local-only'
    return written
  })
  if (!reached) unreached(h, strict, 'expire', key, { kind: 'expire', key, fence: fence.value, at: now })
}

/** Removes the entry everywhere, local tiers included; a fenced tombstone keeps a load in flight from bringing it back. */
export async function remove(h: HerdContext, key: string, options?: InvalidateOptions): Promise<void> {
  const strict = checkInvalidation(h, key, 'delete', options)
  const fence = await h.coordinator.writeFence(key)
  const now = h.clock.now()
  const keepUntil = now + h.tombstoneMs
  const gone = tombstone(fence === 'next' ? 0 : fence.value, now)
  let written
  if (fence === 'next' || fence.kind === 'fleet') {
    written = await commit(h, { key, entry: gone, encoded: '', fence, kind: 'delete', now, keepUntil })
  } else {
    // No fleet fence to guard a tombstone with (the Lock is unreachable): a plain delete is the best the Store can get.
    written = await h.observer.traceWrite(key, 'delete', async (context) => {
      const removed = await h.tier.remove(key)
      h.local?.put(key, gone, now, keepUntil)
      if (removed === 'written') h.bus.publish('delete', key)
      if (context !== undefined) context.outcome = removed
      return removed
    })
  }
  // The tombstone carries the fence its write used (the one-trip write sets it).
  if (written === 'local-only') unreached(h, strict, 'delete', key, { kind: 'delete', key, fence: gone.fence, at: now })
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
export async function invalidateTags(
  h: HerdContext,
  tags: readonly string[],
  kind: RecordKind,
  operation: string,
  options?: InvalidateOptions,
): Promise<void> {
  h.assertOpen(operation)
  const list = tagList(tags, `${operation}()`, MAX_TAGS_PER_CALL) ?? []
  await raise(h, list, kind, operation, strictOf(options, `${operation}()`))
}

/** Every entry of this herd's namespace gone, in every process: the namespace's own record, deleted. */
export async function clear(h: HerdContext, options?: InvalidateOptions): Promise<void> {
  h.assertOpen('clear')
  const strict = strictOf(options, 'clear()')
  h.local?.clear()
  await raise(h, [NAMESPACE_TAG], 'deleted', 'clear', strict)
}

async function raise(h: HerdContext, tags: readonly string[], kind: RecordKind, operation: string, strict: boolean): Promise<void> {
  const at = h.clock.now()
  for (const tag of tags) h.tags.raise(tag, kind, at, at)
  const unreachedTags: string[] = []
  await Promise.all(
    tags.map((tag) =>
      h.observer.traceWrite(tag, operation === 'clear' || kind === 'deleted' ? 'delete' : 'expire', async (context) => {
        const written = await h.tier.raiseRecord(kind, tag, at, h.longestLifetimeMs)
        if (written === 'written') h.bus.invalidate(kind, tag, at)
        else unreachedTags.push(tag)
        if (context !== undefined) context.outcome = written
      }),
    ),
  )
  if (unreachedTags.length === 0) return
  if (strict) throw new HerdUnavailableError(operation)
  for (const tag of unreachedTags) h.recovery.keep({ kind: 'raise', record: kind, tag, at })
}

/** What an invalidation needs: a checked key, a fence newer than any load in flight, and how long its tombstone must last. */
async function invalidation(
  h: HerdContext,
  key: string,
  operation: string,
  options: InvalidateOptions | undefined,
): Promise<{ fence: Fence; now: number; keepUntil: number; strict: boolean }> {
  const strict = checkInvalidation(h, key, operation, options)
  const fence = await h.coordinator.fence(key)
  const now = h.clock.now()
  return { fence, now, keepUntil: now + h.tombstoneMs, strict }
}

/** An invalidation's call checked (the herd open, the key, the options); whether it is strict. */
function checkInvalidation(h: HerdContext, key: string, operation: string, options: InvalidateOptions | undefined): boolean {
  h.assertOpen(operation)
  assertKey(key, operation)
  return strictOf(options, `${operation}()`)
}

/** The shared tier did not take it: a strict caller hears so; otherwise it is kept for replay (its effect here already holds). */
function unreached(h: HerdContext, strict: boolean, operation: string, key: string, pending: PendingOperation): void {
  if (strict) throw new HerdUnavailableError(operation, key)
  h.recovery.keep(pending)
}

const INVALIDATE_OPTION_KEYS: ReadonlySet<string> = new Set(['strict'])

function strictOf(options: InvalidateOptions | undefined, where: string, known = INVALIDATE_OPTION_KEYS): boolean {
  if (options === undefined) return false
  if (options === null || typeof options !== 'object') throw new HerdArgumentError(`herd: ${where} options must be an object; got ${describe(options)}`)
  for (const name of Object.keys(options)) {
    if (!known.has(name)) throw new HerdArgumentError(`herd: unknown option "${name}" in ${where}; known: ${[...known].join(', ')}`)
  }
  if (options.strict !== undefined && typeof options.strict !== 'boolean')
    throw new HerdArgumentError(`herd: ${where} strict must be a boolean; got ${describe(options.strict)}`)
  return options.strict === true
}
