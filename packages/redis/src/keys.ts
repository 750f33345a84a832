import { HerdArgumentError } from '@herd/core'
import { slotOf, tagOfSlot } from './slots.js'

/**
 * Where a cache key lives in Redis. Every key one script touches for a cache
 * key carries the same hash tag, so it hashes to one slot and the same
 * scripts run on a single Redis and on Redis Cluster:
 *
 *     herd:{user:1}:v      the entry (StoredEntry, see entry-format.ts), or the lease marker of a load after a miss (marker.ts)
 *     herd:{user:1}:lock   the lease of a key that has an entry: the holder's random token, PX = lease
 *     herd:{user:1}:fence  the key's fence counter
 *     herd:wake            pub/sub channel: a lease was released (single Redis, Sentinel)
 *     herd:{3e}:wake       sharded channel of one slot, on a Cluster: a lease of a key in that slot was released
 *     herd:bus             pub/sub channel: invalidations for every process (sharded on a Cluster)
 *
 * Inside the braces `{`, `}` and `%` of the user's key are percent-encoded,
 * so a key that contains braces can't move its own hash tag (and with it a
 * script's keys to different slots); the empty key becomes `{%}`, as an empty
 * tag would hash the whole name.
 */
export interface Keyspace {
  value(key: string): string
  lock(key: string): string
  fence(key: string): string
  /** The channel a release of `key` is announced on. */
  wake(key: string): string
  readonly bus: string
}

const HAS_SPECIAL = /[{}%]/
const SPECIAL = /[{}%]/g
const ENCODED: Record<string, string> = { '{': '%7B', '}': '%7D', '%': '%25' }

function tag(key: string): string {
  if (key === '') return '%'
  return HAS_SPECIAL.test(key) ? key.replace(SPECIAL, (c) => ENCODED[c]!) : key
}

/**
 * `perSlotWake`: on a Cluster each slot has its own sharded wake channel
 * (`prefix{<a tag of that slot>}:wake`), in the slot of the keys whose
 * releases it announces, so the release script can SPUBLISH it on the key's
 * own node; elsewhere one channel carries every key's wake-ups.
 */
export function keyspace(prefix: string, perSlotWake = false): Keyspace {
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new HerdArgumentError(`@herd/redis: prefix must be a string without braces (they would change the hash slot); got ${JSON.stringify(prefix)}`)
  }
  const open = `${prefix}{`
  return {
    value: (key) => `${open}${tag(key)}}:v`,
    lock: (key) => `${open}${tag(key)}}:lock`,
    fence: (key) => `${open}${tag(key)}}:fence`,
    wake: perSlotWake ? (key) => `${open}${tagOfSlot(slotOf(tag(key)))}}:wake` : () => `${prefix}wake`,
    bus: `${prefix}bus`,
  }
}
