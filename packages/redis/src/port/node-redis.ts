import { RedisUnavailableError } from '../errors.js'
import type { CommandPort, MessageListener, PubSubPort, Topology } from './port.js'

/**
 * node-redis 5 and 6: `createClient`, `createCluster`, `createSentinel`.
 * Typed structurally (methods only), so clients of either major version,
 * with any modules, scripts, RESP version and type mapping, fit.
 */
export interface NodeRedisClient {
  sendCommand(...args: any[]): Promise<any>
  /** Absent on a node-redis 5 Sentinel (which keeps pub/sub on a connection of its own). */
  duplicate?(...args: any[]): any
  /** Absent on a node-redis 5 Cluster. */
  readonly isReady?: boolean
}

interface NodeRedisPubSub {
  connect(): Promise<unknown>
  destroy(): unknown
  on(event: string, listener: (...args: any[]) => void): unknown
  off(event: string, listener: (...args: any[]) => void): unknown
  subscribe(channel: string, listener: MessageListener): Promise<unknown>
  unsubscribe(channel: string, listener: MessageListener): Promise<unknown>
  sSubscribe(channel: string, listener: MessageListener): Promise<unknown>
  sUnsubscribe(channel: string, listener: MessageListener): Promise<unknown>
}

export function isNodeRedis(client: object): client is NodeRedisClient {
  return typeof (client as { sendCommand?: unknown }).sendCommand === 'function'
}

function topologyOf(client: NodeRedisClient): Topology {
  if ('masters' in client) return 'cluster'
  if (typeof (client as { getMasterNode?: unknown }).getMasterNode === 'function') return 'sentinel'
  return 'standalone'
}

export function nodeRedisPort(client: NodeRedisClient): CommandPort {
  const topology = topologyOf(client)
  const send: CommandPort['send'] =
    topology === 'cluster'
      ? (key, readonly, args) => client.sendCommand(key, readonly, args)
      : topology === 'sentinel'
        ? (_key, readonly, args) => (client.isReady ? client.sendCommand(readonly, args) : Promise.reject(new RedisUnavailableError(args[0]!)))
        : // A client that is not ready would queue the command behind an outage: fail at once instead.
          (_key, _readonly, args) => (client.isReady ? client.sendCommand(args) : Promise.reject(new RedisUnavailableError(args[0]!)))
  return {
    library: 'node-redis',
    topology,
    isReady: () => client.isReady !== false,
    send,
    openPubSub: (onError) => nodeRedisPubSub(client, topology, onError),
  }
}

function nodeRedisPubSub(client: NodeRedisClient, topology: Topology, onError: (error: unknown) => void): PubSubPort {
  // A Cluster and a Sentinel already keep pub/sub on connections of their own (resubscribed after
  // failovers and slot moves); a single client can't run commands once subscribed, so it gets a duplicate.
  const own = topology === 'standalone'
  let connection: NodeRedisPubSub | undefined
  const subscribed = new Map<string, { sharded: boolean; listener: MessageListener }[]>()
  const resubscribed = new Set<() => void>()
  const announce = () => {
    for (const listener of resubscribed) listener()
  }
  /**
   * When the subscriptions are back: a duplicate's 'ready' after the first
   * one (node-redis resubscribes as it reconnects); a Sentinel's change of
   * master (its pub/sub connection moves to the new one); a Cluster node's
   * reconnection (the closest a Cluster tells, announced as it starts).
   */
  const readyEvent = own ? 'ready' : topology === 'sentinel' ? 'topology-change' : 'node-reconnecting'
  return {
    onResubscribed(listener) {
      resubscribed.add(listener)
    },
    async connect() {
      if (connection !== undefined) return
      if (!own) {
        connection = client as unknown as NodeRedisPubSub
        connection.on(readyEvent, announce)
        return
      }
      const duplicate = client.duplicate!() as NodeRedisPubSub
      // Without an 'error' listener node-redis' reconnect errors would crash the process.
      duplicate.on('error', onError)
      try {
        await duplicate.connect()
      } catch (error) {
        duplicate.destroy()
        throw error
      }
      connection = duplicate
      // Registered once connected: every later 'ready' is a reconnection.
      duplicate.on(readyEvent, announce)
    },
    async subscribe(channel, sharded, listener) {
      if (connection === undefined) throw new Error('@herd/redis: pub/sub used before connect()')
      await (sharded ? connection.sSubscribe(channel, listener) : connection.subscribe(channel, listener))
      if (!own) subscribed.set(channel, [...(subscribed.get(channel) ?? []), { sharded, listener }])
    },
    async unsubscribe(channel, sharded, listener) {
      if (connection === undefined) return
      if (!own)
        subscribed.set(
          channel,
          (subscribed.get(channel) ?? []).filter((s) => s.listener !== listener),
        )
      await (sharded ? connection.sUnsubscribe(channel, listener) : connection.unsubscribe(channel, listener))
    },
    close() {
      const opened = connection
      connection = undefined
      resubscribed.clear()
      if (opened === undefined) return
      opened.off(readyEvent, announce)
      if (own) {
        opened.destroy()
        return
      }
      // The user's client: take back only what herd subscribed.
      for (const [channel, list] of subscribed) {
        for (const { sharded, listener } of list) {
          void (sharded ? opened.sUnsubscribe(channel, listener) : opened.unsubscribe(channel, listener)).catch(() => {})
        }
      }
      subscribed.clear()
    },
  }
}
