import { type Entry, expired, tombstone } from '../policies/freshness.js'
import { Lru } from './lru.js'

interface Slot {
  entry: Entry
  /** When this process stops trusting its copy and asks the Store again. */
  until: number
  /** Loaded while the fleet was unreachable: anything the shared tier holds replaces it. */
  provisional: boolean
  /** What holding it costs, roughly: the encoded value at two bytes a character, plus a fixed overhead. */
  bytes: number
}

export interface LocalTierLimits {
  maxSize: number
  /** Most bytes held; the least recently used entries go first past it. */
  maxBytes: number
  /** An entry larger than this is not held here (it lives in the shared tier only). */
  maxEntryBytes: number
  /** Deep-freeze what is held, so a caller changing a value it got can't change what the next caller gets. */
  freeze: boolean
}

const SLOT_OVERHEAD_BYTES = 160

/**
 * The per-process tier: decoded entries, bounded by an LRU. In front of a
 * Store it keeps a copy for at most `ttl` (the Bus drops it sooner when
 * another process writes); with no Store it is the only tier and keeps each
 * entry for its whole stale window.
 */
export class LocalTier {
  private readonly lru: Lru<string, Slot>
  private held = 0

  constructor(
    private readonly limits: LocalTierLimits,
    readonly ttl: number,
  ) {
    this.lru = new Lru(limits.maxSize, (_key, slot) => {
      this.held -= slot.bytes
    })
  }

  /** Bytes held right now (the estimate the bound is kept with). */
  get bytes(): number {
    return this.held
  }

  get(key: string, now: number): Entry | undefined {
    const slot = this.lru.get(key)
    if (slot === undefined) return undefined
    if (now < slot.until) return slot.entry
    this.lru.delete(key)
    return undefined
  }

  /**
   * A loaded entry, or one read from the Store: kept unless a newer copy
   * (higher fence) is held, so a slow load finishing late can't replace what
   * a newer set or delete wrote. `provisional` marks a load made while the
   * fleet was unreachable.
   */
  offer(key: string, entry: Entry, now: number, provisional = false): void {
    const held = this.lru.peek(key)
    if (held !== undefined && now < held.until && held.entry.fence > entry.fence && !(held.provisional && !provisional)) return
    this.keep(key, entry, now, Math.min(entry.errorUntil, now + this.ttl), provisional)
  }

  /** This process's own write (set, delete): its newest intent, kept whatever is held. `keepUntil` lets a tombstone outlive its entry. */
  put(key: string, entry: Entry, now: number, keepUntil = Math.min(entry.errorUntil, now + this.ttl)): void {
    this.keep(key, entry, now, keepUntil, false)
  }

  /**
   * `expire`: the held copy turns stale (keeping its stale windows) and
   * takes `fence`, so a load that began before the expire can't land fresh
   * over it; with no copy held, a tombstone with the fence until `keepUntil`.
   */
  markStale(key: string, fence: number, now: number, keepUntil: number): void {
    const slot = this.lru.peek(key)
    if (slot !== undefined && now < slot.until) slot.entry = expired(slot.entry, fence)
    else this.keep(key, tombstone(fence, now), now, keepUntil, false)
  }

  /** The held copy and until when it is trusted, without touching the LRU order. */
  inspect(key: string, now: number): { entry: Entry; until: number } | undefined {
    const slot = this.lru.peek(key)
    return slot === undefined || now >= slot.until ? undefined : { entry: slot.entry, until: slot.until }
  }

  /** Drops the held copy unless it is the fleet's entry with `fence` (a provisional load's fence is this process's own). */
  deleteUnless(key: string, fence: number): void {
    const slot = this.lru.peek(key)
    if (slot !== undefined && !slot.provisional && slot.entry.fence === fence) return
    this.delete(key)
  }

  delete(key: string): void {
    const slot = this.lru.peek(key)
    if (slot === undefined) return
    this.held -= slot.bytes
    this.lru.delete(key)
  }

  clear(): void {
    this.lru.clear()
    this.held = 0
  }

  get size(): number {
    return this.lru.size
  }

  private keep(key: string, entry: Entry, now: number, until: number, provisional: boolean): void {
    const bytes = SLOT_OVERHEAD_BYTES + 2 * (key.length + (entry.size ?? 0))
    if (until <= now || bytes > this.limits.maxEntryBytes) return this.delete(key)
    if (this.limits.freeze) deepFreeze(entry.value)
    const replaced = this.lru.peek(key)
    if (replaced !== undefined) this.held -= replaced.bytes
    this.lru.set(key, { entry, until, provisional, bytes })
    this.held += bytes
    if (this.held > this.limits.maxBytes) this.shed()
  }

  /** Drops the least recently used entries until the bytes held are within the bound again. */
  private shed(): void {
    for (const [key] of this.lru.entriesAscending()) {
      if (this.held <= this.limits.maxBytes) return
      this.delete(key)
    }
  }
}

/**
 * Freezes plain objects and arrays all the way down (once, when an entry is
 * kept): every caller of the local tier gets the same object, so one that
 * changes it would change it for all. Typed arrays and Buffers can't be
 * frozen, and a Map's or Set's entries stay changeable; documented.
 */
function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value) || ArrayBuffer.isView(value)) return
  Object.freeze(value)
  if (value instanceof Map) {
    for (const [k, v] of value) {
      deepFreeze(k)
      deepFreeze(v)
    }
  } else if (value instanceof Set) {
    for (const v of value) deepFreeze(v)
  } else {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key])
  }
}
