import { type Duration, HerdArgumentError, toMs } from '@herd/core'
import { Commands, type RedisClient } from './commands.js'
import { type Keyspace, keyspace } from './keys.js'

export interface RedisOptions {
  /** Namespace of every key and channel; Store, Lock and Bus of one herd must share it. No braces. Default 'herd:'. */
  prefix?: string
  /** Longest wait for any one Redis reply; past it the call rejects (the herd's breaker counts it). Default '1s'. */
  commandTimeout?: Duration
}

export interface RedisLockOptions extends RedisOptions {
  /** Slowest a waiter re-checks a lease when no wake-up message arrives (a lost message, a crashed holder). Default '1s'. */
  fallbackInterval?: Duration
  /** How long a key's fence counter outlives its last use; entries that outlive it still keep their fence. Default '1d'. */
  fenceTtl?: Duration
  /** Errors of the pub/sub connection this adapter opens (they never reach a caller). Default: ignored. */
  onError?: (error: unknown) => void
}

export type RedisBusOptions = Pick<RedisLockOptions, 'prefix' | 'commandTimeout' | 'onError'>

export interface Resolved {
  commands: Commands
  keys: Keyspace
}

export function resolve(client: RedisClient, options: RedisOptions, name: string): Resolved {
  if (client === null || typeof client !== 'object' || typeof (client as { sendCommand?: unknown }).sendCommand !== 'function') {
    throw new HerdArgumentError(`@herd/redis: ${name}() needs a node-redis client from createClient() or createCluster()`)
  }
  if (options === null || typeof options !== 'object') {
    throw new HerdArgumentError(`@herd/redis: ${name}() options must be an object`)
  }
  const timeout = toMs(options.commandTimeout ?? 1_000, 'commandTimeout')
  if (timeout <= 0) throw new HerdArgumentError('@herd/redis: commandTimeout must be greater than 0')
  return { commands: new Commands(client, timeout), keys: keyspace(options.prefix ?? 'herd:') }
}

export function positive(value: Duration, name: string): number {
  const ms = toMs(value, name)
  if (ms <= 0) throw new HerdArgumentError(`@herd/redis: ${name} must be greater than 0`)
  return ms
}

export const ignore = (): void => {}
