import { HerdArgumentError } from '../errors.js'

/**
 * A bounded map that forgets the least recently used keys, in two
 * generations (the scheme of hashlru and quick-lru): keys are set in the
 * young one, which becomes the old one when it reaches `maxSize`; a key read
 * from the old generation moves to the young one. Past `maxSize` keys in
 * all, the old generation's oldest goes, so at most `maxSize` are held (quick-lru
 * holds up to twice as many), and a key is in one generation only: its
 * eviction is reported once, with the value it had.
 *
 * The local tier's, and exported for adapters that keep entries in process
 * (@herd/memory's Store): a hit is one `Map.get` for a key in the young
 * generation, the value stored as it is. quick-lru wraps every value with
 * its expiry and asks `has` before `get` (two lookups and a check per hit,
 * about 17 ns of a 160 ns local hit here); its users keep their own expiry.
 */
export class Lru<K, V> {
  private young = new Map<K, V>()
  private old = new Map<K, V>()

  /** `onEviction` hears of each key the bound pushes out (not of `delete` or `clear`). */
  constructor(
    private readonly maxSize: number,
    private readonly onEviction?: (key: K, value: V) => void,
  ) {
    if (!(Number.isInteger(maxSize) && maxSize >= 1)) throw new HerdArgumentError(`herd: Lru maxSize must be a whole number >= 1; got ${String(maxSize)}`)
  }

  /** The value, counting as a use: a key of the old generation moves to the young one. */
  get(key: K): V | undefined {
    const value = this.young.get(key)
    if (value !== undefined) return value
    const aging = this.old.get(key)
    if (aging === undefined) return undefined
    this.old.delete(key)
    this.add(key, aging)
    return aging
  }

  /** The value, without counting as a use. */
  peek(key: K): V | undefined {
    return this.young.get(key) ?? this.old.get(key)
  }

  set(key: K, value: V): void {
    if (this.young.has(key)) this.young.set(key, value)
    else {
      // A key of the old generation held twice would be evicted with its old value when that generation goes.
      this.old.delete(key)
      this.add(key, value)
    }
  }

  delete(key: K): boolean {
    const young = this.young.delete(key)
    return this.old.delete(key) || young
  }

  clear(): void {
    this.young.clear()
    this.old.clear()
  }

  /** Keys held (a key is in one generation at a time). */
  get size(): number {
    return this.young.size + this.old.size
  }

  /** Least recently used first: the old generation, then the young one. */
  *entriesAscending(): IterableIterator<[K, V]> {
    yield* this.old
    yield* this.young
  }

  private add(key: K, value: V): void {
    this.young.set(key, value)
    if (this.young.size + this.old.size > this.maxSize) this.evictOldest()
    // Full, the young generation is all there is (the total is at most maxSize): it becomes the old one.
    if (this.young.size >= this.maxSize) {
      this.old = this.young
      this.young = new Map()
    }
  }

  private evictOldest(): void {
    for (const [key, value] of this.old) {
      this.old.delete(key)
      this.onEviction?.(key, value)
      return
    }
  }
}
