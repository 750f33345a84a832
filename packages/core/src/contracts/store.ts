/**
 * One cache entry as a Store keeps it. Every number is finite; fences are
 * safe integers and must be stored and compared exactly. The value is already encoded by the
 * herd's Codec; the timestamps let every process agree on the entry's state
 * without asking the Store twice.
 */
export interface StoredEntry {
  /** Codec output. Empty for a negative ("not found") entry. */
  value: string
  /** True when the loader said "not found" (returned `undefined`). */
  negative?: boolean
  /** Fence of the lease (or write) that produced this entry; higher is newer. */
  fence: number
  /** Epoch ms when the value was produced. */
  createdAt: number
  /** Epoch ms until which the entry is fresh. */
  freshUntil: number
  /** Epoch ms until which a stale entry may be served while one caller refreshes it. */
  staleUntil: number
  /** Epoch ms until which a stale entry may be served when the loader fails. */
  errorUntil: number
  /** How long the loader took, in ms: XFetch's delta. */
  loadMs: number
  /**
   * Tags the entry was written with (`fetch(k, l, { tags })`). The Store keeps
   * and returns them as given; herd invalidates tagged entries lazily, by
   * comparing them with tag records it keeps as entries of their own.
   */
  tags?: readonly string[]
}

/**
 * The shared tier. Implementations throw on failure (never swallow): the
 * herd's circuit breaker decides what a failure means.
 */
export interface Store {
  /** The stored entry, or `undefined` when there is none. */
  get(key: string): Promise<StoredEntry | undefined>
  /**
   * Writes the entry and keeps it for `ttlMs` (>= 0; 0 keeps nothing), unless the Store already holds
   * an entry with a higher fence: then nothing changes and it resolves `false`.
   * Must be atomic: two writers racing can't both win with the older fence last.
   */
  set(key: string, entry: StoredEntry, ttlMs: number): Promise<boolean>
  /** Removes the entry, whatever its fence. */
  delete(key: string): Promise<void>
  /**
   * Marks the entry stale as of `at` (epoch ms): `freshUntil` becomes
   * `min(freshUntil, at)`, the stale windows are kept. With `fence`, the
   * entry's fence also becomes `max(fence, its own)`, so a write with an older
   * fence (a load that began before this expire) is refused afterwards.
   * Resolves whether an entry was there. Must be atomic.
   */
  expire(key: string, at: number, fence?: number): Promise<boolean>
  /**
   * Optional: the Store's own clock, epoch ms. Every process then measures
   * entry times against this one clock, so a process whose clock runs ahead
   * can't keep entries fresh for longer than asked.
   */
  time?(): Promise<number>
  /** Optional batch read, one round trip where the backend allows it. */
  getMany?(keys: readonly string[]): Promise<Array<StoredEntry | undefined>>
  /** Releases what the Store itself opened (never a client the user passed in). */
  close?(): Promise<void>
}
