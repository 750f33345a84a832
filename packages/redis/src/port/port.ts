/**
 * The few things herd asks of a Redis client, whichever library and topology
 * it is. One implementation per client library (node-redis.ts, ioredis.ts);
 * everything above this file speaks only this interface.
 */

export type Topology = 'standalone' | 'cluster' | 'sentinel'

/** Called with a pub/sub message's payload and its channel. */
export type MessageListener = (message: string, channel: string) => void

export interface CommandPort {
  readonly library: 'node-redis' | 'ioredis'
  readonly topology: Topology
  /** Whether a command sent now goes out now (false while the client is disconnected or reconnecting). */
  isReady(): boolean
  /**
   * One command, on the node that owns `key`'s slot on a Cluster (any node
   * when `key` is undefined), on the master behind Sentinel. Rejects with
   * the client's own error (READONLY, NOSCRIPT, MOVED after too many
   * redirections, connection lost…).
   */
  send(key: string | undefined, readonly: boolean, args: string[]): Promise<unknown>
  /**
   * The connection(s) for pub/sub: a `duplicate()` of the client, or the
   * client itself where the library keeps pub/sub on connections of its own
   * (node-redis' Cluster and Sentinel). Opened by `connect()`.
   */
  openPubSub(onError: (error: unknown) => void): PubSubPort
}

export interface PubSubPort {
  connect(): Promise<void>
  /** Sends SUBSCRIBE (or SSUBSCRIBE when `sharded`); messages of `channel` go to `listener`. */
  subscribe(channel: string, sharded: boolean, listener: MessageListener): Promise<void>
  unsubscribe(channel: string, sharded: boolean, listener: MessageListener): Promise<void>
  /**
   * `listener` runs each time the subscriptions are back after an
   * interruption (the connection dropped and the client resubscribed):
   * messages published meanwhile are lost.
   */
  onResubscribed(listener: () => void): void
  /** Drops the connection (a duplicate) or every subscription herd made (the user's own client). */
  close(): void
}
