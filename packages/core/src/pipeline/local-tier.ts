import QuickLRU from 'quick-lru'
import type { Entry } from './entry.js'

interface Slot {
  entry: Entry
  /** When this process stops trusting its copy and asks the Store again. */
  until: number
}

/**
 * The per-process tier: decoded entries, bounded by an LRU. In front of a
 * Store it keeps a copy for at most `ttl` (the Bus drops it sooner when
 * another process writes); with no Store it is the only tier and keeps each
 * entry for its whole stale window.
 */
export class LocalTier {
  private readonly lru: QuickLRU<string, Slot>
  private readonly ttl: number

  constructor(maxSize: number, ttl: number) {
    this.lru = new QuickLRU({ maxSize })
    this.ttl = ttl
  }

  get(key: string, now: number): Entry | undefined {
    const slot = this.lru.get(key)
    if (slot === undefined) return undefined
    if (now < slot.until) return slot.entry
    this.lru.delete(key)
    return undefined
  }

  /**
   * Keeps `entry` unless a copy with a higher fence is held, so a slow load
   * finishing late can't replace what a newer set or delete wrote.
   * `keepUntil` overrides how long to hold it (tombstones outlive their entry).
   */
  set(key: string, entry: Entry, now: number, keepUntil?: number): boolean {
    const held = this.lru.peek(key)
    if (held !== undefined && held.entry.fence > entry.fence && now < held.until) return false
    const until = keepUntil ?? Math.min(entry.errorUntil, now + this.ttl)
    if (until <= now) {
      this.lru.delete(key)
      return true
    }
    this.lru.set(key, { entry, until })
    return true
  }

  /** `expire`: the held copy turns stale and keeps its stale windows. */
  markStale(key: string): void {
    const slot = this.lru.peek(key)
    if (slot !== undefined) slot.entry = { ...slot.entry, freshUntil: 0 }
  }

  delete(key: string): void {
    this.lru.delete(key)
  }

  clear(): void {
    this.lru.clear()
  }

  get size(): number {
    return this.lru.size
  }
}
