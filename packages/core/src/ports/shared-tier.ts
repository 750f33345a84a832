import type { Codec } from '../contracts/codec.js'
import type { Store, StoredEntry } from '../contracts/store.js'
import { HerdDecodeError, HerdEncodeError } from '../errors.js'
import type { Observer, WriteKind } from '../pipeline/observer.js'
import { type Entry, fromStored, toStored } from '../policies/freshness.js'
import type { HerdClock } from '../time/clock.js'
import { every, type Timer } from '../time/timers.js'
import type { Fence } from './fence.js'
import type { BackendGuard } from './guard.js'

/** A shared-tier read: the entry, or a miss (none stored, the Store unreachable, or bytes that don't decode). */
export type TierRead = { readonly kind: 'entry'; readonly entry: Entry } | { readonly kind: 'miss' }

/**
 * Where a write ended up: in the shared tier (or there is none to reach),
 * refused there because a newer fence had written, or in this process only
 * (the Store was unreachable, or the fence was made without the fleet's Lock).
 */
export type TierWrite = 'written' | 'fenced-out' | 'local-only'

export const MISS: TierRead = { kind: 'miss' }

/** How often the Store's clock is read again. */
const CLOCK_SYNC_MS = 60_000

/**
 * The shared tier as the pipeline sees it: the Store, the Codec, the breaker
 * and the timeouts behind typed outcomes. A failing Store or an open breaker
 * reads as a miss and writes as local-only; corrupt bytes are a miss plus a
 * `codec` error, never a backend failure (they don't open the breaker).
 */
export class SharedTier {
  private clockSync: Timer | undefined

  constructor(
    readonly store: Store | undefined,
    private readonly codec: Codec,
    private readonly guard: BackendGuard,
    private readonly observer: Observer,
  ) {}

  read(key: string): Promise<TierRead> {
    const store = this.store
    if (store === undefined) return Promise.resolve(MISS)
    return this.guard.run('store', key, () => store.get(key).catch((error: unknown) => this.unreadable(key, error))).then((read) =>
      read.ok && read.value != null ? this.decode(key, read.value) : MISS,
    )
  }

  /** For inspect(): the entry as stored, whatever its state; `unreachable` when the Store could not be asked. */
  async peek(key: string): Promise<Entry | 'unreachable' | undefined> {
    const store = this.store
    if (store === undefined) return undefined
    const result = await this.guard.run('store', key, () => store.get(key).catch((error: unknown) => this.unreadable(key, error)))
    if (!result.ok) return 'unreachable'
    if (result.value == null) return undefined
    const read = this.decode(key, result.value)
    return read.kind === 'entry' ? read.entry : undefined
  }

  /** A stored entry as the pipeline holds it; bytes the codec can't read are a miss plus a `codec` error. */
  decode(key: string, stored: StoredEntry): TierRead {
    if (stored.negative === true) return { kind: 'entry', entry: fromStored(stored, undefined) }
    try {
      return { kind: 'entry', entry: fromStored(stored, this.codec.decode(stored.value)) }
    } catch (error) {
      this.corrupt(key, error)
      return MISS
    }
  }

  /**
   * Encodes before anything is written, on every backend (the local tier
   * too), so a value the codec can't round-trip fails the same way everywhere
   * and nothing half-written is left behind.
   */
  encode(value: unknown): string {
    if (value === undefined) return ''
    try {
      return this.codec.encode(value)
    } catch (error) {
      if (error instanceof HerdEncodeError) throw error
      throw new HerdEncodeError(`herd: the codec could not encode this value: ${(error as Error)?.message ?? String(error)}`, { cause: error })
    }
  }

  /**
   * The value as every tier hands it back: decoded from what the codec wrote.
   * The local tier keeps this, so a value read here and one read from the
   * Store by another process are alike (class instances become plain
   * objects in both), and a caller changing the object it passed to set()
   * can't change the cache.
   */
  roundTrip(encoded: string): unknown {
    return encoded === '' ? undefined : this.codec.decode(encoded)
  }

  async write(key: string, entry: Entry, encoded: string, fence: Fence, keepUntil: number, now: number, kind: WriteKind): Promise<TierWrite> {
    const store = this.store
    if (store === undefined) return 'written'
    if (fence.kind === 'local') return 'local-only'
    const ttlMs = Math.max(1, keepUntil - now)
    const result = await this.guard.run('store', key, () => store.set(key, toStored(entry, encoded), ttlMs))
    if (!result.ok) return 'local-only'
    this.observer.write(key, kind, result.value)
    return result.value ? 'written' : 'fenced-out'
  }

  /** Store.expire with the fence when it is the fleet's: `absent` when no entry was there. */
  async markStale(key: string, at: number, fence: Fence): Promise<'marked' | 'absent' | 'local-only'> {
    const store = this.store
    if (store === undefined) return 'marked'
    const result = await this.guard.run('store', key, () =>
      fence.kind === 'fleet' ? store.expire(key, at, fence.value) : store.expire(key, at),
    )
    if (!result.ok) return 'local-only'
    return result.value ? 'marked' : 'absent'
  }

  /** A plain delete, for when no fleet fence can guard a tombstone. */
  async remove(key: string): Promise<TierWrite> {
    const store = this.store
    if (store === undefined) return 'written'
    const result = await this.guard.run('store', key, () => store.delete(key))
    return result.ok ? 'written' : 'local-only'
  }

  /** Reads the Store's clock now and every minute, when it has one (see HerdClock). */
  startClockSync(clock: HerdClock): void {
    const store = this.store
    if (store?.time === undefined) return
    const sync = (): void => {
      const sent = Date.now()
      void this.guard.run('store', '', () => store.time!()).then((result) => {
        const received = Date.now()
        // Half the round trip either way: the Store read its clock somewhere in between.
        if (result.ok && Number.isFinite(result.value)) clock.offset = Math.round(result.value - (sent + received) / 2)
      })
    }
    sync()
    this.clockSync = every(CLOCK_SYNC_MS, sync)
  }

  stop(): void {
    this.clockSync?.cancel()
  }

  /** A Store that found bytes it can't parse as an entry answered; that is a miss, not a backend failure. */
  private unreadable(key: string, error: unknown): undefined {
    if (!(error instanceof HerdDecodeError)) throw error
    this.corrupt(key, error)
    return undefined
  }

  private corrupt(key: string, error: unknown): void {
    this.observer.error(key, 'codec', error instanceof HerdDecodeError ? error : new HerdDecodeError(`herd: could not decode the entry for "${key}"`, { cause: error }))
  }
}
