import { HerdTimeoutError } from '../errors.js'
import type { Tier } from '../events.js'
import type { FetchResult, FetchStatus } from '../options.js'
import type { Entry } from '../policies/freshness.js'
import { after, type Timer } from '../time/timers.js'
import { Cancel } from './cancel.js'
import type { HerdContext } from './context.js'

/** Every caller of the key left before the work was done. */
function abandoned(): DOMException {
  return new DOMException('every caller of this key has gone', 'AbortError')
}

/**
 * The one piece of work under way for a key in this process: a Store read,
 * a lock wait, a load or a refresh. Every concurrent caller of the key joins
 * it. Its result may come early (a stale value) while the work goes on.
 *
 * The flight owns its timers (hard and soft timeout) and its fallback (a
 * value past its stale window that may still stand in for a failed or slow
 * load). `open` registers it; `close` (or `fail`, or every caller leaving)
 * unregisters it at once, so a caller arriving afterwards starts afresh
 * instead of inheriting work that is winding down.
 */
export class Flight {
  /**
   * What callers wait on, made on first use: fetchEntry()'s whole result, and
   * fetch()'s value alone (shared by every caller without a signal). A Store
   * hit with one caller makes the one it needs, nothing more.
   */
  private whole: Deferred<FetchResult<unknown>> | undefined
  private valueOnly: Deferred<unknown> | undefined
  /** Kept once settled, for callers that join a flight still open behind a background refresh. */
  private outcome: { readonly ok: true; readonly result: FetchResult<unknown> } | { readonly ok: false; readonly error: unknown } | undefined
  /** The tier that answered, for a hit or a stale serve. */
  tier: Tier | undefined
  private fallback: Entry | undefined
  private fallbackTier: Tier = 'local'
  private work: Cancel | undefined
  private hardTimer: Timer | undefined
  private softTimer: Timer | undefined
  /** Set while its refresh waits for a turn (maxConcurrentRefreshes): starts it at once. */
  hurry: (() => void) | undefined
  /** A caller without a signal can't leave, so the work must not be cancelled for lack of callers. */
  private pinned = false
  private abortable = 0

  private constructor(
    private readonly h: HerdContext,
    readonly key: string,
  ) {}

  /** Answered (or failed): its callers have their outcome, though the work may go on (a background refresh). */
  get settled(): boolean {
    return this.outcome !== undefined
  }

  static open(h: HerdContext, key: string): Flight {
    const flight = new Flight(h, key)
    h.flights.set(key, flight)
    return flight
  }

  /** Aborts when every caller has gone, the hard timeout fires, or the herd closes. Created on first use: a Store hit never needs one. */
  get signal(): Cancel {
    this.work ??= new Cancel()
    return this.work
  }

  get hasFallback(): boolean {
    return this.fallback !== undefined
  }

  get staleValue(): unknown {
    return this.fallback?.value
  }

  /** Keeps the newest value that may stand in for a failed or slow load. */
  offerFallback(entry: Entry, tier: Tier): void {
    if (this.fallback !== undefined && entry.fence < this.fallback.fence) return
    this.fallback = entry
    this.fallbackTier = tier
  }

  /** From here on the work is a load: bound it by the hard timeout, and let a stale value stand in after the soft one. */
  armTimeouts(hardTimeout: number, softTimeout: number | undefined): void {
    this.hardTimer?.cancel()
    this.softTimer?.cancel()
    this.hardTimer = after(hardTimeout, () => this.onHardTimeout(hardTimeout))
    if (softTimeout !== undefined && this.fallback !== undefined) {
      this.softTimer = after(softTimeout, () => {
        if (!this.settled) this.standIn('timeout')
      })
    }
  }

  provide(value: unknown, status: FetchStatus, createdAt: number, tier?: Tier): void {
    if (this.settled) return
    this.tier = tier
    const result = { value, status, createdAt }
    this.outcome = { ok: true, result }
    this.whole?.resolve(result)
    this.valueOnly?.resolve(value)
  }

  /**
   * The last answer: provides it and closes at once, so a caller that
   * resumes with it and asks again reads afresh instead of joining this
   * finished flight (a close left to a `finally` comes a few turns later).
   */
  finish(value: unknown, status: FetchStatus, createdAt: number, tier?: Tier): void {
    this.provide(value, status, createdAt, tier)
    this.close()
  }

  /** Serves the fallback if it is still inside its staleIfError window. */
  standIn(reason: 'timeout' | 'error' | 'backoff'): boolean {
    const fallback = this.fallback
    if (this.settled || fallback === undefined || this.h.clock.now() >= fallback.errorUntil) return false
    this.h.observer.stale(this.key, this.fallbackTier, reason)
    this.provide(fallback.value, 'stale', fallback.createdAt, this.fallbackTier)
    return true
  }

  /** Rejects every caller (unless already answered) and closes, so new callers start afresh while this work winds down. */
  fail(error: unknown): void {
    if (!this.settled) {
      this.outcome = { ok: false, error }
      this.whole?.reject(error)
      this.valueOnly?.reject(error)
    }
    this.close()
  }

  /** Ends the flight for new callers, and stops its timers. */
  close(): void {
    this.hardTimer?.cancel()
    this.softTimer?.cancel()
    if (this.h.flights.get(this.key) === this) this.h.flights.delete(this.key)
  }

  /** Stops the work: its signal aborts with `reason`, and the callers get `reason` unless already answered. */
  abort(reason: unknown): void {
    this.fail(reason)
    this.abortWork(reason)
  }

  /**
   * A caller joined. With nothing to answer it yet (a keepFresh refresh of a
   * key this process doesn't hold), a refresh still waiting for its turn is
   * no longer background work: it starts now.
   */
  urge(): void {
    if (this.outcome !== undefined || this.hurry === undefined) return
    const start = this.hurry
    this.hurry = undefined
    start()
  }

  /** The value alone, for fetch() (fetchEntry() wants the whole result): shared by the callers that can't leave. */
  joinValue(signal: AbortSignal | undefined): Promise<unknown> {
    if (this.outcome !== undefined) return this.outcome.ok ? Promise.resolve(this.outcome.result.value) : Promise.reject(this.outcome.error)
    if (signal === undefined) {
      this.pinned = true
      this.valueOnly ??= deferred()
      return this.valueOnly.promise
    }
    return this.join(signal).then(valueOf)
  }

  /** The whole result, shared by every caller that can't leave, and followed by those that can. */
  private get result(): Promise<FetchResult<unknown>> {
    if (this.outcome !== undefined) return this.outcome.ok ? Promise.resolve(this.outcome.result) : Promise.reject(this.outcome.error)
    this.whole ??= deferred()
    return this.whole.promise
  }

  /**
   * The caller's view of the result. A caller whose `signal` aborts stops
   * waiting at once; the work is aborted only when every caller has gone.
   */
  join(signal: AbortSignal | undefined): Promise<FetchResult<unknown>> {
    if (signal === undefined || this.settled) {
      this.pinned = true
      return this.result
    }
    if (signal.aborted) return Promise.reject(signal.reason)
    this.abortable++
    return new Promise((resolve, reject) => {
      let left = false
      const leave = (): void => {
        if (left) return
        left = true
        signal.removeEventListener('abort', onAbort)
        this.abortable--
      }
      const onAbort = (): void => {
        leave()
        reject(signal.reason)
        if (!this.pinned && this.abortable === 0 && !this.settled) this.abort(abandoned())
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.result.then(
        (value) => {
          leave()
          resolve(value)
        },
        (error: unknown) => {
          leave()
          reject(error)
        },
      )
    })
  }

  private onHardTimeout(timeoutMs: number): void {
    this.h.observer.timeout()
    const error = new HerdTimeoutError(this.key, timeoutMs)
    if (!this.standIn('timeout')) this.fail(error)
    this.abortWork(error)
  }

  private abortWork(reason: unknown): void {
    this.work ??= new Cancel()
    this.work.abort(reason)
  }
}

function valueOf(result: FetchResult<unknown>): unknown {
  return result.value
}

interface Deferred<T> {
  readonly promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((yes, no) => {
    resolve = yes
    reject = no
  })
  return { promise, resolve, reject }
}
