import { type Bus, type Duration, HerdArgumentError, type Store, toMs } from '@herd/core'
import { Commands } from './commands.js'
import { type Keyspace, keyspace } from './keys.js'
import { tagOfSlot } from './slots.js'
import { type CommandPort, type RedisClient, portFor } from './port/index.js'

export interface RedisOptions {
  /** Namespace of every key and channel; Store, Lock and Bus of one herd must share it. No braces. Default 'herd:'. */
  prefix?: string
  /** Longest wait for any one Redis reply; past it the call rejects (the herd's breaker counts it). Default '1s'. */
  commandTimeout?: Duration
  /**
   * Cluster only: wake-ups and invalidations on sharded pub/sub (SPUBLISH /
   * SSUBSCRIBE, Redis >= 7), which reach only the shard that owns the
   * channel instead of every node. Set false for a Cluster of Redis 6.
   * Every process of a fleet must agree. Default true.
   */
  shardedPubSub?: boolean
}

export interface RedisLockOptions extends RedisOptions {
  /** Slowest a waiter re-checks a lease when no wake-up message arrives (a lost message, a crashed holder). Default '1s'. */
  fallbackInterval?: Duration
  /** How long a key's fence counter outlives its last use; entries that outlive it still keep their fence. Default '1d'. */
  fenceTtl?: Duration
  /** Errors of the pub/sub connection this adapter relies on (they never reach a caller). Default: ignored. */
  onError?: (error: unknown) => void
  /**
   * Largest encoded entry (bytes) a fill pushes to waiters with the wake-up;
   * larger ones are read with a GET. Default 64 KiB. A fill after a miss
   * can't tell whether anyone waits (its lease is a marker nobody can mark),
   * so it pushes at most 4 KiB (or this, if lower) to every listening process.
   */
  wakePayloadLimit?: number
  /**
   * The Store (and Bus) of the same herd, made by `redisStore` / `redisBus`
   * on the same client and prefix: the Lock then offers `fused`, a cold miss
   * in three round trips. `redisBackend` does this for you.
   */
  fuse?: { store: Store; bus?: Bus }
}

export type RedisBusOptions = Pick<RedisLockOptions, 'prefix' | 'commandTimeout' | 'onError' | 'shardedPubSub'>

export interface Resolved {
  port: CommandPort
  commands: Commands
  keys: Keyspace
  /** Sharded pub/sub (a Cluster with shardedPubSub). */
  sharded: boolean
  prefix: string
}

export function resolve(client: RedisClient, options: RedisOptions, name: string): Resolved {
  const port = portFor(client, name)
  if (options === null || typeof options !== 'object') {
    throw new HerdArgumentError(`@herd/redis: ${name}() options must be an object`)
  }
  const timeout = toMs(options.commandTimeout ?? 1_000, 'commandTimeout')
  if (timeout <= 0) throw new HerdArgumentError('@herd/redis: commandTimeout must be greater than 0')
  if (options.shardedPubSub !== undefined && typeof options.shardedPubSub !== 'boolean') {
    throw new HerdArgumentError('@herd/redis: shardedPubSub must be a boolean')
  }
  const sharded = port.topology === 'cluster' && options.shardedPubSub !== false
  // The per-slot channel table (a few ms, once per process) is built now rather than on the first miss.
  if (sharded) tagOfSlot(0)
  const prefix = options.prefix ?? 'herd:'
  return { port, commands: new Commands(port, timeout), keys: keyspace(prefix, sharded), sharded, prefix }
}

export function positive(value: Duration, name: string): number {
  const ms = toMs(value, name)
  if (ms <= 0) throw new HerdArgumentError(`@herd/redis: ${name} must be greater than 0`)
  return ms
}

export const ignore = (): void => {}
