import type { Commands } from './commands.js'
import type { Keyspace } from './keys.js'
import { PROBE } from './scripts.js'
import type { Subscriber } from './subscriber.js'

type Settle = (woken: boolean) => void

/** Everyone in this process waiting on one key: one channel subscription, one fallback check loop. */
interface Watch {
  readonly key: string
  readonly channel: string
  readonly onMessage: () => void
  readonly waiters: Set<Settle>
  /** The holder seen by the first check; a different one means ours was released. */
  holder: string | undefined
  timer: ReturnType<typeof setTimeout> | undefined
  done: boolean
}

/**
 * `Lock.wait` for Redis. A waiter subscribes to the key's wake channel (the
 * release script publishes there), then checks the lease once: already
 * released → wake at once; otherwise a check is scheduled for when the lease
 * runs out, and every `fallbackMs` after that, so a lost message or a holder
 * that died costs a bounded delay, never a hang. The subscription and the
 * timers go when the last waiter of the key does.
 */
export class Waiters {
  private readonly watches = new Map<string, Watch>()

  constructor(
    private readonly commands: Commands,
    private readonly keys: Keyspace,
    private readonly subscriber: Subscriber,
    private readonly fallbackMs: number,
  ) {}

  wait(key: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false)
    return new Promise<boolean>((resolve) => {
      const watch = this.watches.get(key) ?? this.open(key)
      const settle: Settle = (woken) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        watch.waiters.delete(settle)
        if (watch.waiters.size === 0) this.end(watch)
        resolve(woken)
      }
      const onAbort = () => settle(false)
      const timer = setTimeout(onAbort, timeoutMs)
      signal?.addEventListener('abort', onAbort, { once: true })
      watch.waiters.add(settle)
    })
  }

  /** Wakes this process' waiters on `key` at once (our own release: no need to hear it back from Redis). */
  wake(key: string): void {
    const watch = this.watches.get(key)
    if (watch !== undefined) this.fire(watch, true)
  }

  /** Settles every pending wait with false and drops every subscription and timer (the Lock refuses new waits after). */
  close(): void {
    for (const watch of [...this.watches.values()]) this.fire(watch, false)
  }

  private open(key: string): Watch {
    const watch: Watch = {
      key,
      channel: this.keys.wake(key),
      onMessage: () => this.fire(watch, true),
      waiters: new Set(),
      holder: undefined,
      timer: undefined,
      done: false,
    }
    this.watches.set(key, watch)
    // Check only once subscribed, so a release between the two can't be missed;
    // if subscribing fails the checks alone still bound the wait.
    this.subscriber.subscribe(watch.channel, watch.onMessage).then(
      () => this.check(watch),
      () => this.check(watch),
    )
    return watch
  }

  private check(watch: Watch): void {
    if (watch.done) return
    this.commands.run(PROBE, [this.keys.lock(watch.key)], []).then(
      (reply) => {
        if (watch.done) return
        const [holder, pttl] = reply as [string, number]
        if (holder === '' || (watch.holder !== undefined && holder !== watch.holder)) return this.fire(watch, true)
        watch.holder = holder
        // A check as the lease runs out (plus a little for clock granularity), at the latest after fallbackMs.
        this.schedule(watch, pttl >= 0 ? Math.min(Number(pttl) + 5, this.fallbackMs) : this.fallbackMs)
      },
      () => this.schedule(watch, this.fallbackMs),
    )
  }

  private schedule(watch: Watch, ms: number): void {
    if (watch.done) return
    watch.timer = setTimeout(() => this.check(watch), ms)
  }

  private fire(watch: Watch, woken: boolean): void {
    this.end(watch)
    for (const settle of [...watch.waiters]) settle(woken)
  }

  private end(watch: Watch): void {
    if (watch.done) return
    watch.done = true
    clearTimeout(watch.timer)
    if (this.watches.get(watch.key) === watch) this.watches.delete(watch.key)
    this.subscriber.unsubscribe(watch.channel, watch.onMessage).catch(() => {})
  }
}
