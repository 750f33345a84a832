import type { StoredEntry } from '../contracts/store.js'
import type { ResolvedEntryOptions } from '../options.js'
import { jittered } from './jitter.js'

/** An entry as the pipeline holds it: the stored metadata plus the decoded value. */
export interface Entry<T = unknown> extends Omit<StoredEntry, 'value' | 'negative'> {
  value: T | undefined
  negative: boolean
  /** Length of the encoded value (what the local tier's byte bound counts); not stored. */
  size?: number
}

/**
 * An entry's state by age: fresh (`ttl`), stale but servable while one
 * caller refreshes it (`staleWhileRevalidate`), stale but servable only when
 * the loader fails (`staleIfError`), gone. Ordered, so `<= STALE` reads
 * "servable as is".
 */
export const FRESH = 0
export const STALE = 1
export const ERROR_WINDOW = 2
export const GONE = 3
export type EntryState = typeof FRESH | typeof STALE | typeof ERROR_WINDOW | typeof GONE

export function stateOf(entry: Entry | StoredEntry, now: number): EntryState {
  if (now < entry.freshUntil) return FRESH
  if (now < entry.staleUntil) return STALE
  if (now < entry.errorUntil) return ERROR_WINDOW
  return GONE
}

/** Builds the entry a load or a set writes. Returns undefined when the TTL says "don't cache". */
export function buildEntry<T>(value: T | undefined, o: ResolvedEntryOptions, fence: number, now: number, loadMs: number): Entry<T> | undefined {
  const negative = value === undefined
  const ttl = negative ? Math.min(o.negativeTtl, o.ttl) : o.ttl
  if (ttl <= 0) return undefined
  const freshUntil = now + jittered(ttl, o.jitter)
  const staleUntil = negative ? freshUntil : freshUntil + o.staleWhileRevalidate
  const errorUntil = negative ? freshUntil : Math.max(staleUntil, freshUntil + o.staleIfError)
  const entry: Entry<T> = { value, negative, fence, createdAt: now, freshUntil, staleUntil, errorUntil, loadMs }
  if (o.tags !== undefined) entry.tags = o.tags
  return entry
}

/**
 * What `delete` (and `expire` of a key with no entry) writes: an entry gone
 * since the epoch (so no clock reading, however coarse, sees it as
 * servable), with a new fence, so an in-flight load with an older lease
 * can't bring a value back.
 */
export function tombstone(fence: number, now: number): Entry<never> {
  return { value: undefined, negative: true, fence, createdAt: now, freshUntil: 0, staleUntil: 0, errorUntil: 0, loadMs: 0 }
}

/** The same entry, stale as of the epoch and carrying `fence`: what `expire` leaves. */
export function expired<T>(entry: Entry<T>, fence: number): Entry<T> {
  return { ...entry, fence: Math.max(entry.fence, fence), freshUntil: 0 }
}

export function toStored(entry: Entry, encoded: string): StoredEntry {
  const stored: StoredEntry = {
    value: encoded,
    fence: entry.fence,
    createdAt: entry.createdAt,
    freshUntil: entry.freshUntil,
    staleUntil: entry.staleUntil,
    errorUntil: entry.errorUntil,
    loadMs: entry.loadMs,
  }
  if (entry.negative) stored.negative = true
  if (entry.tags !== undefined) stored.tags = entry.tags
  return stored
}

export function fromStored<T>(stored: StoredEntry, value: T | undefined): Entry<T> {
  const entry: Entry<T> = {
    value,
    negative: stored.negative === true,
    fence: stored.fence,
    createdAt: stored.createdAt,
    freshUntil: stored.freshUntil,
    staleUntil: stored.staleUntil,
    errorUntil: stored.errorUntil,
    loadMs: stored.loadMs,
  }
  if (stored.tags !== undefined && stored.tags.length > 0) entry.tags = stored.tags
  if (stored.value.length > 0) entry.size = stored.value.length
  return entry
}
