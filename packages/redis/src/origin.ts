import type { Resolved } from './options.js'
import type { RedisClient } from './port/index.js'

/** Which client and namespace a Store or Bus of ours runs on, so a Lock can check it may fuse with it. */
export interface Origin {
  readonly client: RedisClient
  readonly prefix: string
  readonly sharded: boolean
}

const origins = new WeakMap<object, Origin>()

export function remember(adapter: object, client: RedisClient, resolved: Resolved): void {
  origins.set(adapter, { client, prefix: resolved.prefix, sharded: resolved.sharded })
}

export function originOf(adapter: object): Origin | undefined {
  return origins.get(adapter)
}
