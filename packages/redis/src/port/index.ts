import { HerdArgumentError } from '@herd/core'
import { type IoRedisClient, ioredisPort, isIoRedis } from './ioredis.js'
import { type NodeRedisClient, isNodeRedis, nodeRedisPort } from './node-redis.js'
import type { CommandPort } from './port.js'

export type { CommandPort, PubSubPort, MessageListener, Topology } from './port.js'
export type { NodeRedisClient } from './node-redis.js'
export type { IoRedisClient } from './ioredis.js'

/**
 * A connected client, which herd uses and never connects, quits or
 * reconfigures: node-redis 5 or 6 (`createClient`, `createCluster`,
 * `createSentinel`) or ioredis 5 (`new Redis(…)`, with or without
 * `sentinels`, and `new Cluster(…)`).
 */
export type RedisClient = NodeRedisClient | IoRedisClient

// One port per client, so every adapter on a client shares its pub/sub connection.
const ports = new WeakMap<object, CommandPort>()

export function portFor(client: RedisClient, name: string): CommandPort {
  if (client === null || typeof client !== 'object') {
    throw new HerdArgumentError(`@herd/redis: ${name}() needs a Redis client (node-redis or ioredis); got ${client === null ? 'null' : typeof client}`)
  }
  let port = ports.get(client)
  if (port === undefined) {
    if (isIoRedis(client)) port = ioredisPort(client)
    else if (isNodeRedis(client)) port = nodeRedisPort(client)
    else
      throw new HerdArgumentError(
        `@herd/redis: ${name}() needs a node-redis client (createClient, createCluster, createSentinel) or an ioredis Redis or Cluster`,
      )
    ports.set(client, port)
  }
  return port
}
