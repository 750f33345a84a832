import QuickLRU from 'quick-lru'
import { type Entry, expired, tombstone } from '../policies/freshness.js'

interface Slot {
  entry: Entry
  /** When this process stops trusting its copy and asks the Store again. */
  until: number
  /** Loaded while the fleet was unreachable: anything the shared tier holds replaces it. */
  provisional: boolean
}

/**
 * The per-process tier: decoded entries, bounded by an LRU. In front of a
 * Store it keeps a copy for at most `ttl` (the Bus drops it sooner when
 * another process writes); with no Store it is the only tier and keeps each
 * entry for its whole stale window.
 */
export class LocalTier {
  private readonly lru: QuickLRU<string, Slot>

  constructor(
    maxSize: number,
    readonly ttl: number,
  ) {
    this.lru = new QuickLRU({ maxSize })
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

  delete(key: string): void {
    this.lru.delete(key)
  }

  clear(): void {
    this.lru.clear()
  }

  get size(): number {
    return this.lru.size
  }

  private keep(key: string, entry: Entry, now: number, until: number, provisional: boolean): void {
    if (until <= now) this.lru.delete(key)
    else this.lru.set(key, { entry, until, provisional })
  }
}
