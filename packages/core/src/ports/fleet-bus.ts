import type { Bus, BusMessage } from '../contracts/bus.js'
import type { Keyspace, RecordKind } from '../keyspace.js'
import type { Observer } from '../pipeline/observer.js'
import { after, type Timer } from '../time/timers.js'

const FIRST_RETRY_MS = 100
const MAX_RETRY_MS = 30_000

/**
 * The Bus as the herd uses it: subscribe until it works (a herd created
 * while Redis stalls must not stay deaf for its whole life), publish without
 * making a caller wait, and say when messages may have been missed (a first
 * subscription that came late, a resubscribe after a reconnect) so the local
 * tier stops trusting what it holds.
 */
export class FleetBus {
  private unsubscribe: (() => Promise<void>) | undefined
  private retry: Timer | undefined
  private failures = 0
  private closed = false
  private settleReady: ((subscribed: boolean) => void) | undefined
  /**
   * Whether the first subscription took: true once it has (or with no Bus),
   * false once the first attempt failed (the herd keeps retrying and serves
   * meanwhile) or the herd closed first. Never rejects.
   */
  readonly ready: Promise<boolean>

  constructor(
    readonly bus: Bus | undefined,
    private readonly keys: Keyspace,
    private readonly origin: string,
    private readonly onMessage: (message: BusMessage) => void,
    private readonly onGap: () => void,
    private readonly observer: Observer,
    /** A message that could not be published, to keep for later. */
    private readonly onUnsent: (message: BusMessage) => void,
  ) {
    this.ready = bus === undefined ? Promise.resolve(true) : new Promise((settle) => (this.settleReady = settle))
  }

  private readyAs(subscribed: boolean): void {
    this.settleReady?.(subscribed)
    this.settleReady = undefined
  }

  start(): void {
    if (this.bus !== undefined) this.subscribe(this.bus)
  }

  /**
   * The message telling other processes that this herd changed `key` (the
   * user's key; the message carries the backend's name), with the written
   * entry's fence for a `set` where it is known already.
   */
  message(kind: 'set' | 'expire' | 'delete', key: string, fence?: number): BusMessage {
    const message: BusMessage = { kind, key: this.keys.entry(key), origin: this.origin }
    if (fence !== undefined) message.fence = fence
    return message
  }

  publish(kind: 'set' | 'expire' | 'delete', key: string, fence?: number): void {
    if (this.bus !== undefined) this.send(this.message(kind, key, fence), key)
  }

  /** Tells other processes that a tag record was raised at `at`. */
  invalidate(kind: RecordKind, tag: string, at: number): void {
    if (this.bus !== undefined) this.send({ kind: 'invalidate', key: this.keys.record(kind, tag), origin: this.origin, at }, tag)
  }

  /** Publishes a kept message again; resolves whether it went out. */
  async resend(message: BusMessage): Promise<boolean> {
    if (this.bus === undefined) return true
    try {
      await this.bus.publish(message)
      this.observer.bus('publish', message)
      return true
    } catch (error) {
      this.observer.error(message.key, 'bus', error)
      return false
    }
  }

  private send(message: BusMessage, subject: string): void {
    this.observer.bus('publish', message)
    this.bus!.publish(message).catch((error: unknown) => {
      this.observer.error(subject, 'bus', error)
      this.onUnsent(message)
    })
  }

  /** A fused fill delivered `message` with its write: reported like a publish. */
  delivered(message: BusMessage): void {
    this.observer.bus('publish', message)
  }

  async close(): Promise<void> {
    this.closed = true
    this.retry?.cancel()
    this.readyAs(false)
    await this.unsubscribe?.()
  }

  private subscribe(bus: Bus): void {
    const listener = (message: BusMessage): void => {
      if (message.origin === this.origin) return
      this.observer.bus('receive', message)
      this.onMessage(message)
    }
    bus.subscribe(listener, { onResubscribe: this.onGap }).then(
      (unsubscribe) => {
        if (this.closed) {
          void unsubscribe().catch(() => {})
          return
        }
        this.unsubscribe = unsubscribe
        // Whatever was cached before the subscription took may have changed unheard.
        this.onGap()
        this.readyAs(true)
      },
      (error: unknown) => {
        this.observer.error(undefined, 'bus', error)
        this.readyAs(false)
        if (this.closed) return
        const backoff = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.failures++)
        this.retry = after(backoff * (0.5 + Math.random() / 2), () => this.subscribe(bus))
      },
    )
  }
}
