/**
 * What changed, so other processes drop their local copy of `key` (`set`,
 * `expire`, `delete`), or raise a tag record (`invalidate`: `key` is the
 * record's key, `at` when it was raised; expireTags, deleteTags, clear).
 */
export interface BusMessage {
  kind: 'set' | 'expire' | 'delete' | 'invalidate'
  key: string
  /** Id of the herd that published it; a herd ignores its own messages. */
  origin: string
  /** For `invalidate`: epoch ms. A Bus carries it as given. */
  at?: number
  /**
   * For `set`: the fence of the entry written, where the publisher knows it.
   * A herd whose local copy has exactly this fence holds that very entry (a
   * waiter woken with it, before this message came) and keeps it; any other
   * copy goes. A Bus carries it as given.
   */
  fence?: number
}

export type BusListener = (message: BusMessage) => void

export interface BusSubscribeOptions {
  /**
   * Called each time the subscription comes back after an interruption
   * (a reconnect): messages published meanwhile may be lost, so the
   * subscriber treats what it holds as possibly stale.
   */
  onResubscribe?: () => void
}

/**
 * Invalidation fan-out between processes. Delivery is best effort (local
 * tiers also expire on their own) and in order per publisher; a publisher
 * may receive its own messages (herds ignore their own `origin`); a
 * listener that throws must not stop delivery to the others.
 */
export interface Bus {
  publish(message: BusMessage): Promise<void>
  /** Resolves once the listener is subscribed, with a function that unsubscribes it. Rejects when it can't subscribe (the herd retries). */
  subscribe(listener: BusListener, options?: BusSubscribeOptions): Promise<() => Promise<void>>
  /** Releases what the Bus itself opened (never a client the user passed in). */
  close?(): Promise<void>
}
