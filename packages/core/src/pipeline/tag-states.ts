import type { RecordKind } from '../keyspace.js'
import { type Entry, ERROR_WINDOW, type EntryState, FRESH, GONE, STALE } from '../policies/freshness.js'

/** When each of a tag's two records was last raised (epoch ms; -Infinity: never), and when this process last read them. */
interface TagState {
  expiredAt: number
  deletedAt: number
  checkedAt: number
}

/** Reads tags' records from the shared tier: each tag's raise times, or undefined when the Store could not be asked. */
export type RecordReader = (tags: readonly string[]) => Promise<Map<string, { expiredAt: number; deletedAt: number }> | undefined>

/** Past this many tags held, the ones no entry can need any more are dropped. */
const PRUNE_ABOVE = 10_000

/** The empty tag: every entry of the namespace has it; deleting it is clear(). */
export const NAMESPACE_TAG = ''

/**
 * What this process knows of tag invalidations: the time each tag was last
 * expired or deleted. An entry is checked against its tags lazily, on read:
 * one that began loading at or before a tag's deletion is gone; at or before
 * its expiry, it is stale as of then (and served inside staleWhileRevalidate
 * while one caller refreshes it). Nothing is scanned or indexed, so
 * invalidating a tag costs the same whatever the number of entries, and a
 * load in flight when a tag is invalidated can't land fresh after it.
 *
 * States come from this process's own invalidations, from the Bus, and,
 * with a Store, from the tag records themselves: a state is trusted for
 * `refreshMs` (the local tier's ttl) after its read, so a lost Bus message
 * costs at most that long. A read waits for the records only when what is
 * held is older than that; past half of it they are read again in the
 * background, so a process with steady traffic never waits for them.
 */
export class TagStates {
  private readonly states = new Map<string, TagState>()
  private readonly pending = new Map<string, Promise<void>>()
  /** The namespace's deletion (clear()), kept apart for the hit path: one compare for every entry. */
  private clearedAt = Number.NEGATIVE_INFINITY
  /** Counts recheck()s: a read begun before a Bus gap says nothing of what the gap may have lost. */
  private generation = 0

  constructor(
    private readonly refreshMs: number,
    private readonly read: RecordReader | undefined,
    /** The longest an entry written here lives: a state older than that can't matter to any entry any more. */
    private readonly longestLifetimeMs: () => number,
  ) {}

  /** The entry's state once its tags (and the namespace) are taken into account. */
  stateOf(entry: Entry, now: number): EntryState {
    const started = entry.createdAt - entry.loadMs
    if (started <= this.clearedAt) return GONE
    let freshUntil = entry.freshUntil
    const tags = entry.tags
    if (tags !== undefined) {
      for (let i = 0; i < tags.length; i++) {
        const state = this.states.get(tags[i]!)
        if (state === undefined) continue
        if (started <= state.deletedAt) return GONE
        // Stale from the expiry on, and the expiry is known here, so it has happened: stale now, whatever `now`
        // says (the hit path's reading may be a millisecond old, another process's clock a little behind).
        if (started <= state.expiredAt) freshUntil = Number.NEGATIVE_INFINITY
      }
    }
    if (now < freshUntil) return FRESH
    if (now < entry.staleUntil) return STALE
    if (now < entry.errorUntil) return ERROR_WINDOW
    return GONE
  }

  /** A record was raised: by this process (`checked`: it knows the record as written), or by another over the Bus. */
  raise(tag: string, kind: RecordKind, at: number, checkedAt = Number.NEGATIVE_INFINITY): void {
    let state = this.states.get(tag)
    if (state === undefined) {
      state = { expiredAt: Number.NEGATIVE_INFINITY, deletedAt: Number.NEGATIVE_INFINITY, checkedAt }
      this.states.set(tag, state)
    }
    if (kind === 'expired') state.expiredAt = Math.max(state.expiredAt, at)
    else state.deletedAt = Math.max(state.deletedAt, at)
    if (tag === NAMESPACE_TAG) this.clearedAt = state.deletedAt
    if (this.states.size > PRUNE_ABOVE) this.prune(at)
  }

  /**
   * Makes sure what this process knows of the entry's tags (and the
   * namespace) is no older than `refreshMs`, reading the records it lacks:
   * one batch for all of them, shared with concurrent reads of the same tags.
   * States past half their window are read again without waiting.
   */
  prepare(entry: Entry, now: number): Promise<void> | undefined {
    if (this.read === undefined) return undefined
    // The hot path: an untagged entry, the namespace's state young. Nothing to wait for, nothing to read.
    if (entry.tags === undefined && this.ageOf(NAMESPACE_TAG, now) < this.refreshMs / 2) return undefined
    const due: string[] = []
    const early: string[] = []
    const waits: Array<Promise<void>> = []
    const consider = (tag: string): void => {
      const age = this.ageOf(tag, now)
      const pending = this.pending.get(tag)
      if (age < this.refreshMs) {
        if (age >= this.refreshMs / 2 && pending === undefined) early.push(tag)
      } else if (pending !== undefined) waits.push(pending)
      else due.push(tag)
    }
    consider(NAMESPACE_TAG)
    if (entry.tags !== undefined) for (const tag of entry.tags) consider(tag)
    if (early.length > 0) this.fetch(early, now).catch(() => {}) // a read that fails leaves the state to age, and the next read retries
    if (due.length > 0) waits.push(this.fetch(due, now))
    return waits.length === 0 ? undefined : Promise.all(waits).then(() => undefined)
  }

  /**
   * Reads the namespace's state unless it is trusted already: every entry
   * read needs it, so herd.ready() (and a Bus gap) read it before the first
   * read has to wait for it. Never rejects.
   */
  warm(now: number): Promise<void> {
    if (this.read === undefined || this.ageOf(NAMESPACE_TAG, now) < this.refreshMs) return Promise.resolve()
    return (this.pending.get(NAMESPACE_TAG) ?? this.fetch([NAMESPACE_TAG], now)).catch(() => {})
  }

  /**
   * Forgets states no entry can still need: raised longer ago than the
   * longest entry lifetime, or (with a Store to read them from again) not
   * read for a while. Keeps memory bounded however many tags go by.
   */
  private prune(now: number): void {
    const longest = this.longestLifetimeMs()
    for (const [tag, state] of this.states) {
      if (tag === NAMESPACE_TAG) continue
      const forgettable =
        Math.max(state.expiredAt, state.deletedAt) + longest < now || (this.read !== undefined && now - state.checkedAt >= this.refreshMs)
      if (forgettable) this.states.delete(tag)
    }
  }

  /** Messages may have been lost (the Bus reconnected): read every record again before trusting it, the namespace's at once. */
  recheck(now: number): void {
    this.generation++
    // Reads under way began before the gap ended: what they bring is kept (raises only move forward), but trusted by no one.
    this.pending.clear()
    for (const state of this.states.values()) state.checkedAt = Number.NEGATIVE_INFINITY
    void this.warm(now)
  }

  get size(): number {
    return this.states.size
  }

  /** How long ago the tag's records were read (Infinity: never, or not since a Bus gap). */
  private ageOf(tag: string, now: number): number {
    const state = this.states.get(tag)
    return state === undefined ? Number.POSITIVE_INFINITY : now - state.checkedAt
  }

  private fetch(tags: string[], now: number): Promise<void> {
    const generation = this.generation
    const done = this.read!(tags).then((records) => {
      if (records === undefined) return // the Store is unreachable: keep what is known
      for (const tag of tags) {
        const record = records.get(tag)
        this.raise(tag, 'expired', record?.expiredAt ?? Number.NEGATIVE_INFINITY)
        this.raise(tag, 'deleted', record?.deletedAt ?? Number.NEGATIVE_INFINITY)
        if (generation === this.generation) this.states.get(tag)!.checkedAt = now
      }
    })
    const settled = done.finally(() => {
      for (const tag of tags) if (this.pending.get(tag) === settled) this.pending.delete(tag)
    })
    for (const tag of tags) this.pending.set(tag, settled)
    return settled
  }
}
