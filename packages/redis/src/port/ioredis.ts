import { RedisUnavailableError } from '../errors.js'
import type { CommandPort, MessageListener, PubSubPort, Topology } from './port.js'

/**
 * ioredis 5: `new Redis(…)` (standalone, or with `sentinels`) and
 * `new Cluster(…)`, typed structurally so herd needs no ioredis types.
 */
export interface IoRedisClient {
  call(command: string, ...args: any[]): Promise<unknown>
  duplicate(...args: any[]): any
  readonly status: string
  readonly isCluster: boolean
}

interface IoRedisPubSub {
  readonly status: string
  connect(): Promise<unknown>
  disconnect(): void
  on(event: string, listener: (...args: any[]) => void): unknown
  subscribe(channel: string): Promise<unknown>
  unsubscribe(channel: string): Promise<unknown>
  ssubscribe(channel: string): Promise<unknown>
  sunsubscribe(channel: string): Promise<unknown>
}

export function isIoRedis(client: object): client is IoRedisClient {
  return typeof (client as { call?: unknown }).call === 'function' && typeof (client as { isCluster?: unknown }).isCluster === 'boolean'
}

function topologyOf(client: IoRedisClient): Topology {
  if (client.isCluster) return 'cluster'
  const options = (client as { options?: { sentinels?: unknown } }).options
  return Array.isArray(options?.sentinels) && options.sentinels.length > 0 ? 'sentinel' : 'standalone'
}

export function ioredisPort(client: IoRedisClient): CommandPort {
  const topology = topologyOf(client)
  return {
    library: 'ioredis',
    topology,
    isReady: () => client.status === 'ready',
    // ioredis routes by the command's own keys on a Cluster (EVALSHA's included) and queues while
    // offline by default: fail at once instead of queueing behind an outage.
    send: (_key, _readonly, args) =>
      client.status === 'ready' ? client.call(args[0]!, ...args.slice(1)) : Promise.reject(new RedisUnavailableError(args[0]!)),
    openPubSub: (onError) => ioredisPubSub(client, topology, onError),
  }
}

function ioredisPubSub(client: IoRedisClient, topology: Topology, onError: (error: unknown) => void): PubSubPort {
  let connection: IoRedisPubSub | undefined
  const listeners = new Map<string, MessageListener>()
  const dispatch = (channel: string | Buffer, message: string | Buffer) => {
    const name = String(channel)
    listeners.get(name)?.(String(message), name)
  }
  const resubscribed = new Set<() => void>()
  const announce = () => {
    for (const listener of resubscribed) listener()
  }
  return {
    onResubscribed(listener) {
      resubscribed.add(listener)
    },
    async connect() {
      if (connection !== undefined) return
      // Sharded pub/sub on an ioredis Cluster needs `shardedSubscribers` (one subscriber per master).
      const duplicate = (
        topology === 'cluster' ? client.duplicate([], { shardedSubscribers: true, lazyConnect: true }) : client.duplicate({ lazyConnect: true })
      ) as IoRedisPubSub
      duplicate.on('error', onError)
      duplicate.on('message', dispatch)
      duplicate.on('smessage', dispatch)
      try {
        await duplicate.connect()
      } catch (error) {
        duplicate.disconnect()
        throw error
      }
      connection = duplicate
      // Registered once connected: every later 'ready' is a reconnection (ioredis resubscribes by itself).
      duplicate.on('ready', announce)
    },
    async subscribe(channel, sharded, listener) {
      if (connection === undefined) throw new Error('@herd/redis: pub/sub used before connect()')
      listeners.set(channel, listener)
      await (sharded ? connection.ssubscribe(channel) : connection.subscribe(channel))
    },
    async unsubscribe(channel, sharded) {
      listeners.delete(channel)
      if (connection === undefined) return
      await (sharded ? connection.sunsubscribe(channel) : connection.unsubscribe(channel))
    },
    close() {
      connection?.disconnect()
      connection = undefined
      listeners.clear()
      resubscribed.clear()
    },
  }
}
