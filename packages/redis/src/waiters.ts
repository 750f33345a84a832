import type { StoredEntry } from '@herd/core'
import type { Commands } from './commands.js'
import { capped } from './delay.js'
import type { Keyspace } from './keys.js'
import { PROBE } from './scripts.js'
import type { Subscriber } from './subscriber.js'
import { type Wake, parseWake, wakeEntry } from './wake-message.js'

export interface WaitOutcome {
  readonly woken: boolean
  readonly entry?: StoredEntry
}

type Settle = (outcome: WaitOutcome) => void

/** What a busy acquire learned, with the wake channel subscribed before it was sent: no check needed until the lease runs out. */
interface Busy {
  readonly holder: string
  readonly expiresAt: number
  /** The holder's release, heard before anyone waited (it raced the acquire's reply). */
  readonly released: WaitOutcome | undefined
}

/** Everyone in this process waiting on one key: one fallback check loop. */
interface Watch {
  readonly key: string
  readonly waiters: Set<Settle>
  /** The holder seen by the last check; a different one means ours was released. */
  holder: string | undefined
  timer: ReturnType<typeof setTimeout> | undefined
  done: boolean
}

const NOT_WOKEN: WaitOutcome = { woken: false }
const WOKEN: WaitOutcome = { woken: true }

function outcomeOf(wake: Wake): WaitOutcome {
  const entry = wakeEntry(wake)
  return entry === undefined ? WOKEN : { woken: true, entry }
}
/** Busy notes kept for waits that never came (a refresh that stepped back): the oldest go first. */
const MAX_BUSY_NOTES = 1_024

/**
 * `Lock.wait` for Redis. Releases are announced on wake channels that stay
 * subscribed for the Lock's life (one per process on a single Redis, one
 * per slot in use on a Cluster), so waiting on a key costs no
 * SUBSCRIBE / UNSUBSCRIBE round trip once its channel is open.
 *
 * A waiter whose acquire found the key busy after its channel was
 * subscribed needs no check to start with; any other waiter checks the
 * lease once, when subscribed (already released → woken at once). Then the
 * next check comes when the lease runs out or after `fallbackMs`, whichever
 * is sooner, and every `fallbackMs` after that, so a lost message or a
 * holder that died costs a bounded delay, never a hang: at most one check
 * per waited key per process per `fallbackMs`, however many wait on it.
 */
export class Waiters {
  private readonly watches = new Map<string, Watch>()
  private readonly busy = new Map<string, Busy>()
  /** Keys with a fused acquire in flight, and the wake-ups heard for them meanwhile (a release can overtake the acquire's reply). */
  private readonly inFlight = new Map<string, { count: number; heard: Wake[] }>()
  private readonly onMessage = (message: string): void => {
    const wake = parseWake(message)
    if (wake === undefined) return
    const watch = this.watches.get(wake.key)
    if (watch === undefined) {
      this.inFlight.get(wake.key)?.heard.push(wake)
      return
    }
    // The release of an older lease than the one this watch saw held changes nothing.
    if (watch.holder !== undefined && wake.token !== watch.holder) return
    this.fire(watch, outcomeOf(wake))
  }

  constructor(
    private readonly commands: Commands,
    private readonly keys: Keyspace,
    private readonly subscriber: Subscriber,
    private readonly sharded: boolean,
    private readonly fallbackMs: number,
  ) {}

  /** Wake channels this Lock subscribed, each kept until close. */
  private readonly channels = new Set<string>()

  /** Subscribes `key`'s wake channel (kept until close); resolves once Redis confirmed it. */
  listen(key: string): Promise<void> {
    const channel = this.keys.wake(key)
    this.channels.add(channel)
    return this.subscriber.subscribe(channel, this.sharded, this.onMessage)
  }

  /** Whether a release of `key` would reach this process now. */
  listening(key: string): boolean {
    return this.subscriber.isSubscribed(this.keys.wake(key))
  }

  /** When a subscription was last asked for, and when one last failed, per channel. */
  private readonly asked = new Map<string, number>()
  private readonly failed = new Map<string, number>()

  /**
   * The subscription of `key`'s wake channel, to wait for before an acquire,
   * or undefined when there is nothing worth waiting for: already listening,
   * a subscription asked for longer than `fallbackMs` ago and still not
   * confirmed (Redis is not answering: no queueing behind it), or one that
   * failed within `fallbackMs` (pub/sub down: waits fall back on checks).
   */
  prepare(key: string): Promise<void> | undefined {
    const channel = this.keys.wake(key)
    if (this.subscriber.isSubscribed(channel)) return undefined
    const now = Date.now()
    if (now - (this.failed.get(channel) ?? -Infinity) < this.fallbackMs) return undefined
    if (this.subscriber.isSubscribing(channel)) {
      // Several acquires at once (a cold start) wait for the same subscription, not for a stuck one.
      return now - (this.asked.get(channel) ?? -Infinity) < this.fallbackMs ? this.listen(key) : undefined
    }
    this.asked.set(channel, now)
    return this.listen(key).then(
      () => void this.failed.delete(channel),
      (error: unknown) => {
        this.failed.set(channel, Date.now())
        throw error
      },
    )
  }

  /** A fused acquire of `key` is about to be sent: wake-ups heard until `acquired` are kept for the wait that may follow. */
  acquiring(key: string): void {
    const pending = this.inFlight.get(key)
    if (pending === undefined) this.inFlight.set(key, { count: 1, heard: [] })
    else pending.count++
  }

  /**
   * The acquire's reply: `busy` when someone held the key, and the acquire
   * was made while listening, so the next wait on `key` trusts it instead
   * of checking (and resolves at once if the holder's release already came).
   */
  acquired(key: string, busy: { holder: string; expiresInMs: number } | undefined): void {
    const pending = this.inFlight.get(key)
    if (pending !== undefined && --pending.count === 0) this.inFlight.delete(key)
    if (busy === undefined) return
    const release = pending?.heard.find((wake) => wake.token === busy.holder)
    this.busy.delete(key)
    if (this.busy.size >= MAX_BUSY_NOTES) this.busy.delete(this.busy.keys().next().value!)
    this.busy.set(key, { holder: busy.holder, expiresAt: Date.now() + busy.expiresInMs, released: release && outcomeOf(release) })
  }

  wait(key: string, timeoutMs: number, signal?: AbortSignal): Promise<WaitOutcome> {
    if (signal?.aborted) return Promise.resolve(NOT_WOKEN)
    const released = this.watches.has(key) ? undefined : this.busy.get(key)?.released
    if (released !== undefined) {
      this.busy.delete(key)
      return Promise.resolve(released)
    }
    return new Promise<WaitOutcome>((resolve) => {
      const watch = this.watches.get(key) ?? this.open(key)
      let settled = false
      const settle: Settle = (outcome) => {
        if (settled) return
        settled = true
        watch.waiters.delete(settle)
        if (watch.waiters.size === 0) this.end(watch)
        resolve(outcome)
        // The timer and the abort listener can wait: the callers woken by this outcome come first (tidy).
        this.tidyAfter(() => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
        })
      }
      const onAbort = () => settle(NOT_WOKEN)
      const timer = setTimeout(onAbort, capped(timeoutMs))
      signal?.addEventListener('abort', onAbort, { once: true })
      watch.waiters.add(settle)
    })
  }

  /** Wakes this process' waiters on `key` at once (our own release: no need to hear it back from Redis). */
  wake(key: string, entry?: StoredEntry): void {
    const watch = this.watches.get(key)
    if (watch !== undefined) this.fire(watch, entry === undefined ? WOKEN : { woken: true, entry })
  }

  /** Settles every pending wait with false, drops every timer and takes back the wake channels (the Lock refuses new waits after). */
  close(): void {
    for (const watch of [...this.watches.values()]) this.fire(watch, NOT_WOKEN)
    clearImmediate(this.tidying)
    this.tidy()
    this.busy.clear()
    this.inFlight.clear()
    for (const channel of this.channels) this.subscriber.unsubscribe(channel, this.onMessage).catch(() => {})
    this.channels.clear()
  }

  private open(key: string): Watch {
    const watch: Watch = { key, waiters: new Set(), holder: undefined, timer: undefined, done: false }
    this.watches.set(key, watch)
    const busy = this.busy.get(key)
    this.busy.delete(key)
    if (busy !== undefined && this.listening(key)) {
      // Subscribed before the acquire that found it busy: any release since then reaches us.
      watch.holder = busy.holder
      this.schedule(watch, Math.min(Math.max(0, busy.expiresAt - Date.now()) + 5, this.fallbackMs))
      return watch
    }
    // Check once subscribed, so a release between the two can't be missed; if subscribing fails the checks alone
    // still bound the wait. A subscription Redis never confirms (a stuck pub/sub connection) must not leave the wait
    // to its own timeout either: checks start after fallbackMs anyway, and go on every fallbackMs until woken.
    this.listen(key).then(
      () => this.check(watch),
      () => this.check(watch),
    )
    this.schedule(watch, this.fallbackMs)
    return watch
  }

  private check(watch: Watch): void {
    if (watch.done) return
    this.commands.run(PROBE, [this.keys.lock(watch.key), this.keys.value(watch.key)], []).then(
      (reply) => {
        if (watch.done) return
        const [holder, pttl] = reply as [string, number]
        if (holder === '' || (watch.holder !== undefined && holder !== watch.holder)) return this.fire(watch, WOKEN)
        watch.holder = holder
        // A check as the lease runs out (plus a little for clock granularity), at the latest after fallbackMs.
        this.schedule(watch, Number(pttl) >= 0 ? Math.min(Number(pttl) + 5, this.fallbackMs) : this.fallbackMs)
      },
      () => this.schedule(watch, this.fallbackMs),
    )
  }

  /** The watch's next check (replacing any still pending: one timer per watch). */
  private schedule(watch: Watch, ms: number): void {
    if (watch.done) return
    clearTimeout(watch.timer)
    // Timers run before the event loop reads its sockets: in a busy process the release this check looks for may
    // be waiting there already. The check goes after that read (setImmediate), so such a wait ends on the message,
    // with the entry, instead of on a PROBE and a Store read.
    watch.timer = setTimeout(() => setImmediate(() => this.check(watch)), capped(ms))
  }

  private fire(watch: Watch, outcome: WaitOutcome): void {
    this.end(watch)
    for (const settle of [...watch.waiters]) settle(outcome)
  }

  private end(watch: Watch): void {
    if (watch.done) return
    watch.done = true
    if (this.watches.get(watch.key) === watch) this.watches.delete(watch.key)
    // A check that fires meanwhile finds the watch done and does nothing.
    const timer = watch.timer
    if (timer !== undefined) this.tidyAfter(() => clearTimeout(timer))
  }

  /**
   * Clean-ups of settled waits (timers, abort listeners), put off to one
   * setImmediate: after the read that woke them, so after the callers they
   * answer. In a process that has just woken up every first call is slow:
   * measured in bench suite 2's setting, a clearTimeout took 30–90 µs and an
   * AbortSignal's removeEventListener 35–40 µs, ahead of the first caller.
   * `close` runs them at once.
   */
  private untidy: (() => void)[] = []
  private tidying: ReturnType<typeof setImmediate> | undefined

  private tidyAfter(work: () => void): void {
    this.untidy.push(work)
    this.tidying ??= setImmediate(this.tidy)
  }

  private readonly tidy = (): void => {
    this.tidying = undefined
    const work = this.untidy
    this.untidy = []
    for (const clean of work) clean()
  }
}
