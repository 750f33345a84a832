import { randomUUID } from 'node:crypto'
import { type Bus, type FusedLock, type FusedWait, HerdArgumentError, type Store, type StoredEntry } from '@herd/core'
import { busPayload } from './bus.js'
import { type Commands, bounded } from './commands.js'
import { decodeEntry, encodeEntry } from './entry-format.js'
import type { Keyspace } from './keys.js'
import { leaseMs } from './lock.js'
import { type RedisLockOptions, type Resolved, ignore } from './options.js'
import { originOf } from './origin.js'
import type { RedisClient } from './port/index.js'
import { FILL, FUSED_ACQUIRE, FUSED_WRITE } from './scripts.js'
import { storeTtl } from './store.js'
import { wakeHeader } from './wake-message.js'
import type { Waiters } from './waiters.js'

/** The Store and Bus a Lock fuses with, checked to run on its client and prefix. */
export interface Fusion {
  readonly store: Store
  readonly bus: Bus | undefined
}

/** `options.fuse`, checked: a Store (and Bus) of ours on the same client and namespace, or a clear error now. */
export function fusionOf(client: RedisClient, resolved: Resolved, options: RedisLockOptions): Fusion | undefined {
  const fuse = options.fuse
  if (fuse === undefined) return undefined
  const same = (adapter: object | undefined, what: string) => {
    const origin = adapter === undefined ? undefined : originOf(adapter)
    if (origin === undefined)
      throw new HerdArgumentError(`@herd/redis: redisLock() fuse.${what} must come from @herd/redis' ${what === 'store' ? 'redisStore' : 'redisBus'}()`)
    if (origin.client !== client || origin.prefix !== resolved.prefix || origin.sharded !== resolved.sharded) {
      throw new HerdArgumentError(`@herd/redis: redisLock() fuse.${what} must run on the Lock's client with the same prefix and shardedPubSub`)
    }
  }
  if (fuse === null || typeof fuse !== 'object') throw new HerdArgumentError('@herd/redis: redisLock() fuse must be { store, bus? }')
  same(fuse.store, 'store')
  if (fuse.bus !== undefined) same(fuse.bus, 'bus')
  return { store: fuse.store, bus: fuse.bus }
}

export interface FusedContext {
  readonly commands: Commands
  readonly keys: Keyspace
  readonly sharded: boolean
  readonly publishCommand: string
  readonly fenceTtl: string
  readonly fusion: Fusion
  /** Largest encoded entry pushed with a wake-up, in bytes. */
  readonly pushLimit: number
  /** This Lock's waiters, opened on demand; undefined once the Lock is closed. */
  waiters(): Waiters | undefined
  /** This Lock's waiters if already open (for waking local waiters without opening anything). */
  localWaiters(): Waiters | undefined
}

/** A corrupt entry is no entry here: the winner's load overwrites it (with a higher fence), which heals the key. */
function entryOf(key: string, raw: unknown): StoredEntry | undefined {
  if (raw === null || raw === undefined || raw === false) return undefined
  try {
    return decodeEntry(typeof raw === 'string' ? raw : String(raw), key)
  } catch {
    return undefined
  }
}

/**
 * The miss path in three round trips (Store.get; `acquire`; `fill`), and
 * waiters woken with the value:
 *
 * - `acquire` is the lease and a read of the entry in one script; a busy
 *   key marks its lease as waited on and reports the entry and the lease's
 *   remaining time. The key's wake channel is subscribed before the script
 *   is sent (once per process, or once per slot on a Cluster), so the wait
 *   that follows needs no check of its own.
 * - `fill` is the fenced write, the release, the wake-up (carrying the
 *   entry when someone waits and it is at most `pushLimit` bytes) and the
 *   bus message, in one script. On a Cluster the bus channel is sharded in a
 *   slot of its own, so the bus message follows the script's reply instead
 *   (a script can only publish in its keys' slot).
 */
export function fusedLock(ctx: FusedContext): FusedLock {
  const { commands, keys, fusion } = ctx
  const inlineBus = fusion.bus !== undefined && !ctx.sharded
  const afterBus = fusion.bus !== undefined && ctx.sharded

  const publishAfter = (payload: string) => {
    // Best effort, as every bus message: the local tiers also expire on their own.
    commands.send(keys.bus, false, ['SPUBLISH', keys.bus, payload]).catch(ignore)
  }

  return {
    store: fusion.store,
    bus: fusion.bus,

    async acquire(key, ttlMs) {
      const lease = leaseMs(ttlMs)
      const token = randomUUID()
      const waiters = ctx.waiters()
      // Subscribed before the acquire, so a release right after it can't slip by unheard.
      const subscribing = waiters?.prepare(key)
      if (subscribing !== undefined) await bounded(subscribing, commands.timeoutMs, 'SUBSCRIBE').catch(ignore)
      const listening = waiters?.listening(key) === true ? waiters : undefined
      listening?.acquiring(key)
      let reply: unknown[]
      try {
        reply = (await commands.run(FUSED_ACQUIRE, [keys.lock(key), keys.fence(key), keys.value(key)], [token, lease, ctx.fenceTtl])) as unknown[]
      } catch (error) {
        listening?.acquired(key, undefined)
        throw error
      }
      if (Number(reply[0]) === 1) {
        listening?.acquired(key, undefined)
        return { lease: { key, token, fence: Number(reply[1]) }, entry: entryOf(key, reply[2]) }
      }
      const holder = String(reply[1] ?? '')
      const expiresInMs = Math.max(0, Number(reply[2]))
      listening?.acquired(key, holder === '' ? undefined : { holder, expiresInMs })
      return { lease: undefined, entry: entryOf(key, reply[3]), expiresInMs }
    },

    async fill(lease, write, notify) {
      const encoded = write === undefined ? '' : encodeEntry(write.entry)
      const ttl = write === undefined ? '0' : storeTtl(write.ttlMs)
      const payload = notify === undefined ? '' : busPayload(notify)
      const reply = (await commands.run(
        FILL,
        [keys.value(lease.key), keys.lock(lease.key)],
        [
          lease.token,
          write === undefined ? '0' : String(write.entry.fence),
          encoded,
          ttl,
          keys.wake(lease.key),
          ctx.publishCommand,
          wakeHeader(lease.key),
          String(ctx.pushLimit),
          inlineBus && notify !== undefined ? keys.bus : '',
          payload,
        ],
      )) as unknown[]
      const written = Number(reply[0]) === 1
      const released = Number(reply[1]) === 1
      if (released) ctx.localWaiters()?.wake(lease.key, written && ttl !== '0' ? write!.entry : undefined)
      if (afterBus && notify !== undefined && (written || write === undefined)) publishAfter(payload)
      return { written, released }
    },

    async wait(key, timeoutMs, signal): Promise<FusedWait> {
      const waiters = ctx.waiters()
      if (waiters === undefined) return { woken: false }
      return waiters.wait(key, timeoutMs, signal)
    },

    async write(key, entry, ttlMs, notify) {
      const encoded = encodeEntry(entry)
      const ttl = storeTtl(ttlMs)
      const payload = notify === undefined ? '' : busPayload(notify)
      const reply = (await commands.run(
        FUSED_WRITE,
        [keys.fence(key), keys.value(key)],
        [ctx.fenceTtl, encoded.slice(encoded.indexOf(',')), ttl, inlineBus && notify !== undefined ? keys.bus : '', payload],
      )) as unknown[]
      if (afterBus && notify !== undefined) publishAfter(payload)
      return { fence: Number(reply[0]), written: Number(reply[1]) === 1 }
    },
  }
}
