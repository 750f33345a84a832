import { HerdArgumentError, Lru, type Store, type StoredEntry } from '@herd/core'
import { assertFinite, assertKey, assertMs, assertObject, describe } from './validate.js'

export interface MemoryStoreOptions {
  /** Most entries held; the least recently used are dropped first. Default 10_000. */
  maxSize?: number
}

export interface MemoryStore extends Store {
  getMany(keys: readonly string[]): Promise<Array<StoredEntry | undefined>>
  close(): Promise<void>
  /** Entries held right now (expired ones not yet read included); never more than `maxSize`. */
  readonly size: number
}

const NUMBER_FIELDS = ['fence', 'createdAt', 'freshUntil', 'staleUntil', 'errorUntil', 'loadMs'] as const

/**
 * The shared tier in process memory. Entries live until their ttl or until
 * the LRU bound pushes them out, so memory stays flat however many distinct
 * keys pass through.
 */
export function memoryStore({ maxSize = 10_000 }: MemoryStoreOptions = {}): MemoryStore {
  if (!Number.isInteger(maxSize) || maxSize < 1) {
    throw new HerdArgumentError(`herd: memoryStore maxSize must be a whole number >= 1; got ${describe(maxSize)}`)
  }
  // Holds private copies only (see copyEntry), so expire() may change them in place. `until` is when the ttl the
  // entry was written with runs out: past it the entry is gone, dropped when next looked at.
  const lru = new Lru<string, { entry: StoredEntry; until: number }>(maxSize)

  /** The entry held for `key` and still inside its ttl; `use` counts it as a use for the LRU (a read), else not (a write's check). */
  function live(key: string, use: boolean): StoredEntry | undefined {
    const held = use ? lru.get(key) : lru.peek(key)
    if (held === undefined) return undefined
    if (Date.now() < held.until) return held.entry
    lru.delete(key)
    return undefined
  }

  // A fresh object per read, as a networked Store would give: a caller that
  // changes what it got can't change what the next caller reads.
  function read(key: string): StoredEntry | undefined {
    const held = live(key, true)
    if (held === undefined) return undefined
    const copy = { ...held }
    if (held.tags !== undefined) copy.tags = [...held.tags]
    return copy
  }

  return {
    async get(key) {
      assertKey(key, 'get')
      return read(key)
    },

    async getMany(keys) {
      if (!Array.isArray(keys)) throw new HerdArgumentError(`herd: getMany() needs an array of keys; got ${describe(keys)}`)
      return keys.map((key: unknown) => {
        assertKey(key, 'getMany')
        return read(key)
      })
    },

    async set(key, entry, ttlMs) {
      assertKey(key, 'set')
      assertMs(ttlMs, 'ttlMs')
      const copy = copyEntry(entry)
      // No await between this check and the write, so racing writers can't interleave.
      const held = live(key, false)
      if (held !== undefined && held.fence > copy.fence) return false
      // Kept for 0 ms is not kept at all; the older entry must still go.
      if (ttlMs === 0) lru.delete(key)
      else lru.set(key, { entry: copy, until: Date.now() + ttlMs })
      return true
    },

    async delete(key) {
      assertKey(key, 'delete')
      lru.delete(key)
    },

    async expire(key, at, fence) {
      assertKey(key, 'expire')
      assertFinite(at, 'at')
      if (fence !== undefined) assertFinite(fence, 'fence')
      // peek, not get: marking stale is not a use, so it doesn't refresh the LRU position.
      const held = live(key, false)
      if (held === undefined) return false
      // In place, so the entry keeps its ttl; its fence only ever rises.
      held.freshUntil = Math.min(held.freshUntil, at)
      if (fence !== undefined && fence > held.fence) held.fence = fence
      return true
    },

    async close() {
      lru.clear()
    },

    get size() {
      return lru.size
    },
  }
}

/**
 * Validates and copies exactly the contract's fields, so the Store never
 * keeps the caller's object and never keeps what a Redis Store could not
 * round-trip (a non-string value, NaN, Infinity).
 */
function copyEntry(entry: StoredEntry): StoredEntry {
  const raw: unknown = entry
  assertObject(raw, 'entry')
  if (typeof raw.value !== 'string') {
    throw new HerdArgumentError(`herd: entry.value must be a string (codec output); got ${describe(raw.value)}`)
  }
  if (raw.negative !== undefined && typeof raw.negative !== 'boolean') {
    throw new HerdArgumentError(`herd: entry.negative must be a boolean when given; got ${describe(raw.negative)}`)
  }
  for (const field of NUMBER_FIELDS) assertFinite(raw[field], `entry.${field}`)
  const copy: StoredEntry = {
    value: entry.value,
    fence: entry.fence,
    createdAt: entry.createdAt,
    freshUntil: entry.freshUntil,
    staleUntil: entry.staleUntil,
    errorUntil: entry.errorUntil,
    loadMs: entry.loadMs,
  }
  if (entry.negative) copy.negative = true
  if (raw.tags !== undefined) {
    if (!Array.isArray(raw.tags) || raw.tags.some((tag) => typeof tag !== 'string')) {
      throw new HerdArgumentError(`herd: entry.tags must be an array of strings when given; got ${describe(raw.tags)}`)
    }
    copy.tags = [...(raw.tags as string[])]
  }
  return copy
}
