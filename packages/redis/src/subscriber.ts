import type { CommandPort, MessageListener, PubSubPort } from './port/index.js'

/**
 * One pub/sub connection per user client per process, shared by every Lock
 * waiter and Bus built on that client (port/ says which connection that is),
 * opened on the first subscription, closed when the last adapter using it
 * releases it. Listeners are counted per channel here: SUBSCRIBE goes out
 * for the first one and UNSUBSCRIBE for the last, whichever library the
 * client is; both libraries resubscribe by themselves after a reconnect.
 */
export class Subscriber {
  private connection: Promise<PubSubPort> | undefined
  private opened: PubSubPort | undefined
  private readonly channels = new Map<string, { readonly sharded: boolean; readonly listeners: Set<MessageListener>; ready: Promise<void> }>()
  /** Every user's onError: each adapter hears about the connection it relies on. */
  private readonly onErrors = new Map<object, (error: unknown) => void>()
  /** Told when the subscriptions are back after an interruption (messages may have been lost). */
  private readonly onResubscribes = new Set<() => void>()

  /** `listener` runs each time the subscriptions come back after an interruption; returns a function that removes it. */
  onResubscribe(listener: () => void): () => void {
    this.onResubscribes.add(listener)
    return () => this.onResubscribes.delete(listener)
  }

  private readonly resubscribed = (): void => {
    for (const listener of this.onResubscribes) {
      try {
        listener()
      } catch {
        // one adapter's handler must not hide the news from the others
      }
    }
  }

  private constructor(private readonly port: CommandPort) {}

  private static readonly shared = new WeakMap<CommandPort, Subscriber>()

  /** The shared subscriber of `port`; `user` (the adapter) pairs it with `release(user)`. */
  static for(port: CommandPort, user: object, onError: (error: unknown) => void): Subscriber {
    let subscriber = Subscriber.shared.get(port)
    if (subscriber === undefined) {
      subscriber = new Subscriber(port)
      Subscriber.shared.set(port, subscriber)
    }
    subscriber.onErrors.set(user, onError)
    return subscriber
  }

  private readonly reportError = (error: unknown): void => {
    for (const onError of this.onErrors.values()) {
      try {
        onError(error)
      } catch {
        // one adapter's handler must not hide the error from the others
      }
    }
  }

  private connect(): Promise<PubSubPort> {
    if (this.connection === undefined) {
      const connection = this.port.openPubSub(this.reportError)
      connection.onResubscribed(this.resubscribed)
      this.opened = connection
      this.connection = connection.connect().then(
        () => connection,
        (error: unknown) => {
          // Try again with a fresh connection on the next subscription.
          if (this.opened === connection) {
            this.connection = undefined
            this.opened = undefined
          }
          connection.close()
          throw error
        },
      )
    }
    return this.connection
  }

  /** Whether `channel` is subscribed and confirmed by Redis right now. */
  isSubscribed(channel: string): boolean {
    return this.confirmed.has(channel)
  }

  /** Whether a subscription of `channel` was asked for and Redis has not confirmed it yet. */
  isSubscribing(channel: string): boolean {
    return this.channels.has(channel) && !this.confirmed.has(channel)
  }

  private readonly confirmed = new Set<string>()

  /** Resolves once Redis confirmed the subscription (at once when the channel already had a listener that was confirmed). */
  subscribe(channel: string, sharded: boolean, listener: MessageListener): Promise<void> {
    const existing = this.channels.get(channel)
    if (existing !== undefined) {
      existing.listeners.add(listener)
      return existing.ready
    }
    const listeners = new Set<MessageListener>([listener])
    const dispatch: MessageListener = (message, name) => {
      for (const l of listeners) {
        try {
          l(message, name)
        } catch {
          // a listener's bug must not starve the others
        }
      }
    }
    const state = { sharded, listeners, dispatch, ready: Promise.resolve() }
    state.ready = this.connect()
      .then(async (connection) => {
        if (this.opened !== connection) throw new Error('@herd/redis: the pub/sub connection was closed')
        await connection.subscribe(channel, sharded, dispatch)
        if (this.channels.get(channel) === state) this.confirmed.add(channel)
      })
      .catch((error: unknown) => {
        // The next subscriber of this channel tries again.
        if (this.channels.get(channel) === state) this.channels.delete(channel)
        throw error
      })
    this.channels.set(channel, state)
    this.dispatchers.set(channel, dispatch)
    return state.ready
  }

  private readonly dispatchers = new Map<string, MessageListener>()

  /** Takes `listener` off `channel`; UNSUBSCRIBE goes out with the last one. */
  async unsubscribe(channel: string, listener: MessageListener): Promise<void> {
    const state = this.channels.get(channel)
    if (state === undefined || !state.listeners.delete(listener) || state.listeners.size > 0) return
    this.channels.delete(channel)
    this.confirmed.delete(channel)
    const dispatch = this.dispatchers.get(channel)!
    this.dispatchers.delete(channel)
    const opened = this.opened
    if (opened === undefined) return
    await state.ready.catch(() => {})
    // A new listener may have subscribed the channel again meanwhile: then it stays.
    if (this.channels.has(channel) || this.opened !== opened) return
    await opened.unsubscribe(channel, state.sharded, dispatch)
  }

  /** One user fewer; the last one closes the connection (pending subscriptions die with it). */
  release(user: object): void {
    if (!this.onErrors.delete(user) || this.onErrors.size > 0) return
    Subscriber.shared.delete(this.port)
    const opened = this.opened
    this.connection = undefined
    this.opened = undefined
    this.channels.clear()
    this.confirmed.clear()
    this.dispatchers.clear()
    this.onResubscribes.clear()
    opened?.close()
  }
}
