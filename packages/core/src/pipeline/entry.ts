import type { StoredEntry } from '../contracts/store.js'
import type { ResolvedEntryOptions } from '../options.js'

/** An entry as the pipeline holds it: the stored metadata plus the decoded value. */
export interface Entry<T = unknown> {
  value: T | undefined
  negative: boolean
  fence: number
  createdAt: number
  freshUntil: number
  staleUntil: number
  errorUntil: number
  loadMs: number
}

export const FRESH = 0
export const STALE = 1 // inside staleWhileRevalidate
export const ERROR_WINDOW = 2 // past it, but may stand in for a failed loader
export const GONE = 3
export type EntryState = typeof FRESH | typeof STALE | typeof ERROR_WINDOW | typeof GONE

export function stateOf(entry: Entry | StoredEntry, now: number): EntryState {
  if (now < entry.freshUntil) return FRESH
  if (now < entry.staleUntil) return STALE
  if (now < entry.errorUntil) return ERROR_WINDOW
  return GONE
}

/** ttl shortened by a uniform random factor in [1 - jitter, 1]: never later than asked. */
export function jittered(ttl: number, jitter: number): number {
  return jitter > 0 ? Math.round(ttl * (1 - jitter * Math.random())) : ttl
}

/**
 * XFetch (Vattani et al., "Optimal Probabilistic Cache Stampede Prevention"):
 * recompute early when now - delta * beta * ln(rand) >= expiry. The longer
 * the load, the earlier one caller volunteers.
 */
export function shouldRefreshEarly(entry: Entry, now: number, beta: number): boolean {
  if (beta <= 0 || entry.loadMs <= 0 || entry.negative) return false
  const scale = entry.loadMs * beta
  // -ln(Math.random()) never exceeds ~36.7 (53-bit randoms): far from expiry the draw can't win, so skip it (hot path).
  if (entry.freshUntil - now > scale * MAX_NEG_LOG_RANDOM) return false
  return now - scale * Math.log(Math.random()) >= entry.freshUntil
}

const MAX_NEG_LOG_RANDOM = 37

/** Builds the entry a load or a set writes. Returns undefined when the TTL says "don't cache". */
export function buildEntry<T>(value: T | undefined, o: ResolvedEntryOptions, fence: number, now: number, loadMs: number): Entry<T> | undefined {
  const negative = value === undefined
  const ttl = negative ? Math.min(o.negativeTtl, o.ttl) : o.ttl
  if (ttl <= 0) return undefined
  const freshUntil = now + jittered(ttl, o.jitter)
  const staleUntil = negative ? freshUntil : freshUntil + o.staleWhileRevalidate
  const errorUntil = negative ? freshUntil : Math.max(staleUntil, freshUntil + o.staleIfError)
  return { value, negative, fence, createdAt: now, freshUntil, staleUntil, errorUntil, loadMs }
}

/**
 * What `delete` writes: an entry gone since the epoch (so no clock reading,
 * however coarse, sees it as servable), with a new fence, so an in-flight
 * load with an older lease can't bring the value back.
 */
export function tombstone(fence: number, now: number): Entry<never> {
  return { value: undefined, negative: true, fence, createdAt: now, freshUntil: 0, staleUntil: 0, errorUntil: 0, loadMs: 0 }
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
  return stored
}

export function fromStored<T>(stored: StoredEntry, value: T | undefined): Entry<T> {
  return {
    value,
    negative: stored.negative === true,
    fence: stored.fence,
    createdAt: stored.createdAt,
    freshUntil: stored.freshUntil,
    staleUntil: stored.staleUntil,
    errorUntil: stored.errorUntil,
    loadMs: stored.loadMs,
  }
}
