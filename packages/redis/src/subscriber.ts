import type { RedisClient } from './commands.js'

type Listener = (message: string, channel: string) => void

/** The few pub/sub methods node-redis' client and cluster both have. */
interface PubSubConnection {
  connect(): Promise<unknown>
  subscribe(channel: string, listener: Listener): Promise<void>
  unsubscribe(channel: string, listener: Listener): Promise<void>
  destroy(): void
  on(event: 'error', listener: (error: unknown) => void): unknown
}

/**
 * One pub/sub connection per user client per process, shared by every Lock
 * waiter and Bus built on that client: `client.duplicate()`, opened on the
 * first subscription, closed when the last adapter using it closes. node-redis
 * counts listeners per channel and sends SUBSCRIBE / UNSUBSCRIBE only for the
 * first / last, and resubscribes by itself after a reconnect.
 */
export class Subscriber {
  private connection: Promise<PubSubConnection> | undefined
  private opened: PubSubConnection | undefined
  private users = 0

  private constructor(
    private readonly client: RedisClient,
    private readonly onError: (error: unknown) => void,
  ) {}

  private static readonly shared = new WeakMap<RedisClient, Subscriber>()

  /** The shared subscriber of `client`; pair with `release()`. */
  static for(client: RedisClient, onError: (error: unknown) => void): Subscriber {
    let subscriber = Subscriber.shared.get(client)
    if (subscriber === undefined) {
      subscriber = new Subscriber(client, onError)
      Subscriber.shared.set(client, subscriber)
    }
    subscriber.users++
    return subscriber
  }

  private connect(): Promise<PubSubConnection> {
    if (this.connection === undefined) {
      const connection = (this.client.duplicate as () => unknown)() as PubSubConnection
      // Without an 'error' listener node-redis' reconnect errors would crash the process.
      connection.on('error', (error) => this.onError(error))
      this.opened = connection
      this.connection = connection.connect().then(
        () => connection,
        (error: unknown) => {
          // Try again with a fresh connection on the next subscription.
          if (this.opened === connection) {
            this.connection = undefined
            this.opened = undefined
          }
          connection.destroy()
          throw error
        },
      )
    }
    return this.connection
  }

  async subscribe(channel: string, listener: Listener): Promise<void> {
    const connection = await this.connect()
    if (this.opened !== connection) throw new Error('@herd/redis: the pub/sub connection was closed')
    await connection.subscribe(channel, listener)
  }

  /** Resolves at once when the connection is already gone: its subscriptions went with it. */
  async unsubscribe(channel: string, listener: Listener): Promise<void> {
    if (this.connection === undefined) return
    const connection = await this.connection
    if (this.opened !== connection) return
    await connection.unsubscribe(channel, listener)
  }

  /** One user fewer; the last one closes the connection (pending subscriptions die with it). */
  release(): void {
    if (--this.users > 0) return
    Subscriber.shared.delete(this.client)
    const opened = this.opened
    this.connection = undefined
    this.opened = undefined
    opened?.destroy()
  }
}
