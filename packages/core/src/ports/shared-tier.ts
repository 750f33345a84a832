import { defaultCodec } from '../codec/default-codec.js'
import type { Codec } from '../contracts/codec.js'
import type { Store, StoredEntry } from '../contracts/store.js'
import { HerdDecodeError, HerdEncodeError } from '../errors.js'
import type { Observer, WriteKind } from '../pipeline/observer.js'
import { type Entry, fromStored, toStored } from '../policies/freshness.js'
import type { Keyspace, RecordKind } from '../keyspace.js'
import type { TagStates } from '../pipeline/tag-states.js'
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
const MISSED: Promise<TierRead> = Promise.resolve(MISS)

/** A fenced write of one entry, kept until `keepUntil`. */
export interface TierWriteJob {
  readonly key: string
  readonly entry: Entry
  readonly encoded: string
  readonly fence: Fence
  readonly keepUntil: number
  readonly now: number
  readonly kind: WriteKind
}

/** How often the Store's clock is read again. */
const CLOCK_SYNC_MS = 60_000
/** Readings per sync: the shortest round trip of them is the most precise. */
const CLOCK_READINGS = 3

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
    private readonly keys: Keyspace,
    private readonly tags: TagStates,
    private readonly clock: HerdClock,
    /** This process's writes still waiting to reach the Store, laid over what it reads (see Recovery). */
    private readonly overlay: (key: string, read: TierRead) => TierRead,
  ) {}

  /** One Store read, decoded, with what this process knows of the entry's tags brought up to date. */
  read(key: string): Promise<TierRead> {
    if (this.store === undefined) return MISSED
    return new Promise((resolve, reject) => this.readThen(key, resolve, reject))
  }

  /**
   * `read` with no promise of its own, answered through `done` (maybe
   * synchronously); `failed` only if the tag check fails. A Store hit is the
   * hot path: its flight answers its callers from `done`, a promise and an
   * async frame fewer than awaiting `read`.
   */
  readThen(key: string, done: (read: TierRead) => void, failed: (error: unknown) => void): void {
    const store = this.store
    if (store === undefined) return done(MISS)
    const stored = this.keys.entry(key)
    this.guard.call<StoredEntry | undefined>(
      'store',
      key,
      () => store.get(stored),
      (read) => {
        let checked: TierRead | Promise<TierRead>
        try {
          checked = read.ok && read.value != null ? this.checked(key, read.value) : this.overlay(key, MISS)
        } catch (error) {
          return failed(error)
        }
        if (checked instanceof Promise) checked.then(done, failed)
        else done(checked)
      },
      { recover: (error) => this.unreadable(key, error) },
    )
  }

  /**
   * `read` through another call than Store.get that answers it too (a fused
   * Lock's readOrAcquire): the same guard, decoding, tag check and overlay.
   * `found` is the call's whole answer, undefined when it failed; one that
   * comes after the timeout goes to `late` (it may carry a lease).
   */
  readVia<R extends { readonly entry: StoredEntry | undefined }>(
    key: string,
    op: (stored: string) => Promise<R>,
    late: (found: R) => void,
  ): Promise<{ read: TierRead; found: R | undefined }> {
    return this.guard.runThen<R | undefined, { read: TierRead; found: R | undefined }>(
      'store',
      key,
      () => op(this.keys.entry(key)),
      async (result) => {
        const found = result.ok ? result.value : undefined
        const entry = found?.entry
        return { read: entry != null ? await this.checked(key, entry) : this.overlay(key, MISS), found }
      },
      {
        recover: (error) => this.unreadable(key, error),
        onLate: (found) => {
          if (found !== undefined) late(found)
        },
      },
    )
  }

  /** Many Store reads in one batch (getMany where the Store has it: MGET, or one pipelined round trip per node). */
  async readMany(keys: readonly string[]): Promise<TierRead[]> {
    const store = this.store
    if (store === undefined || keys.length === 0) return keys.map(() => MISS)
    const names = keys.map((key) => this.keys.entry(key))
    const oneByOne = () =>
      Promise.all(
        names.map((name, i) =>
          store.get(name).catch((error: unknown) => {
            if (this.unreadable(keys[i]!, error) === undefined) throw error
            return undefined
          }),
        ),
      )
    const read = await this.guard.run('store', keys[0]!, () => {
      if (store.getMany === undefined) return oneByOne()
      // One corrupt entry fails a whole batch read: read that batch key by key, so only it is a miss.
      return store.getMany(names).catch((error: unknown) => {
        if (error instanceof HerdDecodeError) return oneByOne()
        throw error
      })
    })
    if (!read.ok) return keys.map((key) => this.overlay(key, MISS))
    const now = this.clock.now()
    return Promise.all(keys.map((key, i) => (read.value[i] != null ? this.checked(key, read.value[i]!, now) : this.overlay(key, MISS))))
  }

  /**
   * A stored entry just read (or handed over by a fused Lock): decoded, its tags brought up to date (at once when
   * nothing needs reading). The exact clock by default: a Store round trip came before, and the coarse clock would
   * keep its timer going on Redis hits; a batch reads it once for all its entries.
   */
  checked(key: string, stored: StoredEntry, now = this.clock.now()): TierRead | Promise<TierRead> {
    const read = this.decode(key, stored)
    if (read.kind === 'miss') return this.overlay(key, read)
    const preparing = this.tags.prepare(read.entry, now)
    return preparing === undefined ? this.overlay(key, read) : preparing.then(() => this.overlay(key, read))
  }

  /** For inspect(): the entry as stored, whatever its state; `unreachable` when the Store could not be asked. */
  async peek(key: string): Promise<Entry | 'unreachable' | undefined> {
    const store = this.store
    if (store === undefined) return undefined
    const result = await this.guard.run<StoredEntry | undefined>('store', key, () => store.get(this.keys.entry(key)), {
      recover: (error) => this.unreadable(key, error),
    })
    if (!result.ok) return 'unreachable'
    if (result.value == null) return undefined
    const read = this.decode(key, result.value)
    if (read.kind === 'miss') return undefined
    await this.tags.prepare(read.entry, this.clock.now())
    return read.entry
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
   * Whether the codec reads back whatever it wrote: the default codec does,
   * so a load's round trip may wait until its write is sent. Another codec
   * is tried first, so a value it can't read back fails before anything is
   * written.
   */
  get readsBackAnything(): boolean {
    return this.codec === defaultCodec
  }

  /**
   * The value as every tier hands it back: decoded from what the codec wrote.
   * The local tier keeps this, so a value read here and one read from the
   * Store by another process are alike (class instances become plain
   * objects in both), and a caller changing the object it passed to set()
   * can't change the cache.
   */
  roundTrip(encoded: string, value: unknown): unknown {
    if (encoded === '') return undefined
    // The default codec gives back a string or a boolean as it was (immutable: nothing to copy), so a large string
    // isn't parsed again for nothing.
    if (this.codec === defaultCodec && (typeof value === 'string' || typeof value === 'boolean')) return value
    return this.codec.decode(encoded)
  }

  async write(write: TierWriteJob): Promise<TierWrite> {
    const { key, entry, encoded, fence, keepUntil, now, kind } = write
    const store = this.store
    if (store === undefined) return 'written'
    if (fence.kind === 'local') return 'local-only'
    const ttlMs = Math.max(1, keepUntil - now)
    const result = await this.guard.run('store', key, () => store.set(this.keys.entry(key), toStored(entry, encoded), ttlMs))
    if (!result.ok) return 'local-only'
    this.observer.write(key, kind, result.value)
    return result.value ? 'written' : 'fenced-out'
  }

  /** Store.expire with the fence when it is the fleet's: `absent` when no entry was there. */
  async markStale(key: string, at: number, fence: Fence): Promise<'marked' | 'absent' | 'local-only'> {
    const store = this.store
    if (store === undefined) return 'marked'
    const stored = this.keys.entry(key)
    const result = await this.guard.run('store', key, () => (fence.kind === 'fleet' ? store.expire(stored, at, fence.value) : store.expire(stored, at)))
    if (!result.ok) return 'local-only'
    return result.value ? 'marked' : 'absent'
  }

  /** A plain delete, for when no fleet fence can guard a tombstone. */
  async remove(key: string): Promise<TierWrite> {
    const store = this.store
    if (store === undefined) return 'written'
    const result = await this.guard.run('store', key, () => store.delete(this.keys.entry(key)))
    return result.ok ? 'written' : 'local-only'
  }

  /**
   * Raises a tag record to `at`: an entry of its own whose fence is `at` in
   * µs, so the Store's fenced write keeps the latest raise whichever arrives
   * last. Kept for `ttlMs`, as long as any entry that may carry the tag.
   */
  async raiseRecord(kind: RecordKind, tag: string, at: number, ttlMs: number): Promise<TierWrite> {
    const store = this.store
    if (store === undefined) return 'written'
    const record: StoredEntry = {
      value: '',
      negative: true,
      fence: Math.floor(at * 1000),
      createdAt: at,
      freshUntil: at,
      staleUntil: at,
      errorUntil: at,
      loadMs: 0,
    }
    const result = await this.guard.run('store', tag, () => store.set(this.keys.record(kind, tag), record, Math.max(1, ttlMs)))
    return result.ok ? 'written' : 'local-only'
  }

  /** The raise times of each tag's records, in one batch (getMany where the Store has it); undefined when the Store can't be asked. */
  async readRecords(tags: readonly string[]): Promise<Map<string, { expiredAt: number; deletedAt: number }> | undefined> {
    const store = this.store
    if (store === undefined) return undefined
    const names = tags.flatMap((tag) => [this.keys.record('expired', tag), this.keys.record('deleted', tag)])
    const read = await this.guard.run('store', tags[0]!, () =>
      store.getMany !== undefined ? store.getMany(names) : Promise.all(names.map((name) => store.get(name))),
    )
    if (!read.ok) return undefined
    const raised = (record: StoredEntry | undefined): number => record?.createdAt ?? Number.NEGATIVE_INFINITY
    return new Map(tags.map((tag, i) => [tag, { expiredAt: raised(read.value[2 * i]), deletedAt: raised(read.value[2 * i + 1]) }]))
  }

  /**
   * Reads the Store's clock now and every minute, when it has one (see
   * HerdClock). Each sync takes a few readings and keeps the one with the
   * shortest round trip, and corrects only the skew that is certain: the
   * Store read its clock somewhere within the round trip, so a reading
   * within half of it of this process's clock says nothing, and a larger
   * one is applied less that half. Two processes with the same clock (one
   * machine, or NTP) then agree exactly, however slow a loaded machine
   * made the round trip; a real skew is corrected to within it.
   */
  startClockSync(clock: HerdClock): void {
    const store = this.store
    if (store?.time === undefined) return
    const read = async (): Promise<{ skew: number; roundTrip: number } | undefined> => {
      const sent = Date.now()
      const result = await this.guard.run('store', '', () => store.time!())
      const received = Date.now()
      if (!result.ok || !Number.isFinite(result.value)) return undefined
      return { skew: result.value - (sent + received) / 2, roundTrip: received - sent }
    }
    const sync = async (): Promise<void> => {
      let best: { skew: number; roundTrip: number } | undefined
      for (let i = 0; i < CLOCK_READINGS; i++) {
        const reading = await read()
        if (reading === undefined) return
        if (best === undefined || reading.roundTrip < best.roundTrip) best = reading
      }
      const certain = Math.max(0, Math.abs(best!.skew) - best!.roundTrip / 2)
      clock.offset = Math.sign(best!.skew) * Math.round(certain)
    }
    void sync()
    this.clockSync = every(CLOCK_SYNC_MS, () => void sync())
  }

  stop(): void {
    this.clockSync?.cancel()
  }

  /** A Store that found bytes it can't parse as an entry answered: a miss (and a codec error), not a backend failure. */
  private unreadable(key: string, error: unknown): { value: undefined } | undefined {
    if (!(error instanceof HerdDecodeError)) return undefined
    this.corrupt(key, error)
    return { value: undefined }
  }

  private corrupt(key: string, error: unknown): void {
    this.observer.error(
      key,
      'codec',
      error instanceof HerdDecodeError ? error : new HerdDecodeError(`herd: could not decode the entry for "${key}"`, { cause: error }),
    )
  }
}
