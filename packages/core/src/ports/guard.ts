import { every, type Timer } from '../time/timers.js'
import type { Breaker } from './breaker.js'

export type Backend = 'store' | 'lock'

/** What a guarded backend call came to: its value, or nothing because the backend was skipped or failed. */
export type Guarded<R> = { readonly ok: true; readonly value: R } | { readonly ok: false }

const FAILED: Guarded<never> = { ok: false }
function same<T>(value: T): T {
  return value
}

function settle<R, T>(then: (read: Guarded<R>) => T | PromiseLike<T>, read: Guarded<R>): Promise<T> {
  try {
    return Promise.resolve(then(read))
  } catch (error) {
    return Promise.reject(error)
  }
}

export class BackendTimeoutError extends Error {
  constructor(source: string, ms: number) {
    super(`herd: ${source} operation took longer than ${ms} ms`)
    this.name = 'BackendTimeoutError'
  }
}

/** One call in flight: its deadline, and how to end it as a failure if the sweeper finds it past it. */
interface Pending {
  readonly deadline: number
  readonly source: Backend
  readonly key: string
  readonly timeoutMs: number
  readonly fail: (error: unknown) => void
}

export interface GuardOptions<R> {
  timeoutMs?: number
  /** A result that arrived after the timeout (a lease granted too late must still be released). */
  onLate?: (value: R) => void
  /**
   * An error that is an answer, not a backend failure (bytes the Store can't
   * parse): its value, and the breaker counts the call as a success.
   */
  recover?: (error: unknown) => { value: R } | undefined
}

/**
 * Runs every Store and Lock call through the circuit breaker with a timeout,
 * so a down, slow or flapping backend costs latency, never an error: the
 * caller gets `{ ok: false }` and carries on with in-process protection.
 *
 * A Store hit is the hot path, so a call costs one promise: timeouts share
 * one sweeping interval, alive only while calls are in flight, instead of a
 * timer per call (a call times out between its timeout and 1.1 × it).
 */
export class BackendGuard {
  private readonly pending = new Set<Pending>()
  private sweeper: Timer | undefined

  constructor(
    private readonly breaker: Breaker | undefined,
    private readonly timeoutMs: number,
    private readonly onFailure: (source: Backend, key: string, error: unknown) => void,
    private readonly onBypass: (source: Backend, key: string) => void,
  ) {}

  run<R>(source: Backend, key: string, op: () => Promise<R>, options?: GuardOptions<R>): Promise<Guarded<R>> {
    return this.runThen(source, key, op, same, options)
  }

  /**
   * `run`, with what the caller does next applied in the callback that
   * settles it (a Store hit is decoded there): one promise on the hot path
   * instead of two. A `then` that throws rejects.
   */
  runThen<R, T>(
    source: Backend,
    key: string,
    op: () => Promise<R>,
    then: (read: Guarded<R>) => T | PromiseLike<T>,
    options?: GuardOptions<R>,
  ): Promise<T> {
    if (this.breaker !== undefined && !this.breaker.allow()) {
      this.onBypass(source, key)
      return settle(then, FAILED)
    }
    return new Promise<T>((resolve, reject) => {
      this.guarded(
        source,
        key,
        op,
        (read) => {
          try {
            resolve(then(read))
          } catch (error) {
            reject(error)
          }
        },
        options,
      )
    })
  }

  /**
   * `run` with no promise of its own: `done` gets the outcome (once, maybe
   * synchronously: a bypass or a call that throws at once). For the Store
   * hit's hot path, which answers its callers from there.
   */
  call<R>(source: Backend, key: string, op: () => Promise<R>, done: (read: Guarded<R>) => void, options?: GuardOptions<R>): void {
    if (this.breaker !== undefined && !this.breaker.allow()) {
      this.onBypass(source, key)
      return done(FAILED)
    }
    this.guarded(source, key, op, done, options)
  }

  /** The call itself, the breaker having allowed it: bounded by the sweeper, counted by the breaker. */
  private guarded<R>(source: Backend, key: string, op: () => Promise<R>, answer: (read: Guarded<R>) => void, options: GuardOptions<R> | undefined): void {
    const timeoutMs = options?.timeoutMs ?? this.timeoutMs
    const fail = (error: unknown): void => {
      this.breaker?.failure()
      this.onFailure(source, key, error)
      answer(FAILED)
    }
    const entry: Pending = { deadline: Date.now() + timeoutMs, source, key, timeoutMs, fail }
    this.pending.add(entry)
    this.sweeper ??= this.startSweeper()
    let call: Promise<R>
    try {
      call = op()
    } catch (error) {
      this.pending.delete(entry)
      fail(error)
      return
    }
    call.then(
      (value) => {
        // Gone from `pending`: the sweeper timed it out already, and its caller went on without it.
        if (!this.pending.delete(entry)) return options?.onLate?.(value)
        this.breaker?.success()
        answer({ ok: true, value })
      },
      (error: unknown) => {
        if (!this.pending.delete(entry)) return
        const recovered = options?.recover?.(error)
        if (recovered === undefined) return fail(error)
        this.breaker?.success()
        answer({ ok: true, value: recovered.value })
      },
    )
  }

  /** Stops the sweeper (on close, or when nothing is in flight). */
  stop(): void {
    this.sweeper?.cancel()
    this.sweeper = undefined
  }

  private startSweeper(): Timer {
    return every(Math.max(1, Math.ceil(this.timeoutMs / 10)), () => {
      const now = Date.now()
      const late: Pending[] = []
      for (const entry of this.pending) if (entry.deadline <= now) late.push(entry)
      if (late.length > 0) setImmediate(() => this.expire(late))
      else if (this.pending.size === 0) this.stop()
    })
  }

  /**
   * Fails the calls still in flight. Timers run before the event loop reads
   * its sockets: in a busy process (a long task, a burst of work) a reply may
   * be there already, unread. Only a call whose answer didn't come with that
   * read is a slow backend; failing the others would turn the process' own
   * lag into "the backend is slow", and a load of its own per key.
   */
  private expire(late: readonly Pending[]): void {
    for (const entry of late) {
      if (this.pending.delete(entry)) entry.fail(new BackendTimeoutError(entry.source, entry.timeoutMs))
    }
    if (this.pending.size === 0) this.stop()
  }
}
