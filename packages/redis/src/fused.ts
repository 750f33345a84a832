import { randomUUID } from 'node:crypto'
import {
  type Bus,
  type FusedAcquire,
  type FusedLock,
  type FusedRead,
  type FusedWait,
  HerdArgumentError,
  type Lease,
  type Store,
  type StoredEntry,
} from '@herd/core'
import { busPayload } from './bus.js'
import { type Commands, bounded } from './commands.js'
import { decodeEntry, encodeEntry } from './entry-format.js'
import type { Keyspace } from './keys.js'
import { assertWaitMs, leaseMs } from './lock.js'
import { type RedisLockOptions, type Resolved, ignore } from './options.js'
import { originOf } from './origin.js'
import type { RedisClient } from './port/index.js'
import { isMarker, markerToken } from './marker.js'
import { FILL, FILL_MARKED, FUSED_ACQUIRE, FUSED_WRITE } from './scripts.js'
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

/**
 * The largest entry a marker's fill pushes. Nobody can mark a marker as
 * waited on, so the fill can't tell whether anyone waits, and the wake-up
 * reaches every process listening: capped, a cold fill fans out at most
 * this much per process; a bigger entry is read with one GET by each
 * process that did wait.
 */
const UNMARKED_PUSH_LIMIT = 4 * 1024

/** Who holds a busy key, and for at most how much longer (for the wait that follows). */
interface Busy {
  readonly holder: string
  readonly expiresInMs: number
}

/** An acquire's answer, and who holds the key when it is busy. */
interface Taken {
  readonly acquired: FusedAcquire
  readonly busy: Busy | undefined
}

/** What a `SET NX GET` of a marker found (see setMarker). */
type MarkerReply =
  | { readonly kind: 'taken'; readonly lease: Lease }
  | ({ readonly kind: 'held' } & Busy)
  | { readonly kind: 'found'; readonly raw: string }

/** Redis refusing a write it would answer as a read: out of memory, a replica, an ACL without it, a failing disk, too few replicas. */
const WRITE_REFUSED = /^(OOM|READONLY|NOPERM|MISCONF|NOREPLICAS)\b/

/** A marker taken: our lease, with no entry to double-check and its fence taken as the fill writes. */
function markerAcquire(lease: Lease): FusedAcquire {
  return { lease, entry: undefined, fenceAtFill: true }
}

function busyAcquire(expiresInMs: number): FusedAcquire {
  return { lease: undefined, entry: undefined, expiresInMs }
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
 * The miss path in three round trips (Store.get; `acquire`; `fill`), or two
 * where core expects the miss (`readOrAcquire`; `fill`), and waiters woken
 * with the value:
 *
 * - `readOrAcquire` is the marker's `SET NX GET` below sent as the read: an
 *   entry comes back as from GET, untouched; an absent key is ours; a marker
 *   is busy. Core sends it while its reads mostly miss (policies/
 *   miss-odds.ts), since unlike GET it always goes to a primary and counts
 *   as a write.
 * - `acquire` after a miss (core's `afterMiss` hint) is one plain command,
 *   `SET <value key> <marker> NX PX <lease> GET` (Redis ≥ 7.0): nil makes
 *   the marker our lease, with nothing to double-check; a marker back is the
 *   holder's. So a process that finds the key busy pays two commands in all,
 *   its GET and this SET, and 8 processes missing one key at once cost about
 *   3 commands each, the winner's fill included. Otherwise (a refresh, a
 *   key holding a tombstone, Redis 6) it is one script: the lease at the
 *   lock key and a read of the entry; a busy key marks its lease as waited
 *   on and reports the entry and the lease's remaining time. Either way the
 *   key's wake channel is subscribed before it is sent (once per process,
 *   or once per slot on a Cluster), so the wait that follows needs no check.
 * - `fill` is the fenced write, the release, the wake-up (carrying the
 *   entry when it is at most `pushLimit` bytes and someone waits, or may
 *   wait: a marker can't be marked) and the bus message, in one script. A
 *   marker's fill takes the fence as it writes and writes only while the
 *   marker is still there. On a Cluster the bus channel is sharded in a
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

  // Off for good once Redis refuses `SET NX GET` (before 7.0): every acquire then takes the scripted lease.
  let markers = true

  /**
   * `SET <value key> <marker> NX PX <lease> GET`: the lease as a marker at
   * the value key, one plain command, and what the key held. `taken`: it
   * was absent, the marker is ours. `held`: someone else's marker (held for
   * at most a lease from now). `found`: an entry (or foreign data), left as
   * it was. Undefined when Redis can't take a marker there: before 7.0 (then
   * never again) or a key of another type.
   */
  const setMarker = async (key: string, lease: string): Promise<MarkerReply | undefined> => {
    const name = keys.value(key)
    const token = markerToken()
    let reply: unknown
    try {
      reply = await commands.send(name, false, ['SET', name, token, 'NX', 'PX', lease, 'GET'])
    } catch (error) {
      if (!(error instanceof Error)) throw error
      if (error.message.startsWith('ERR syntax')) markers = false
      else if (!error.message.startsWith('WRONGTYPE')) throw error
      return undefined
    }
    if (reply === null || reply === undefined) return { kind: 'taken', lease: { key, token, fence: 0 } }
    const found = String(reply)
    return isMarker(found) ? { kind: 'held', holder: found, expiresInMs: Number(lease) } : { kind: 'found', raw: found }
  }

  /**
   * After a miss: the marker. Nil: ours, with no entry to double-check. A
   * marker: busy. A fresh entry (filled since the caller's read): the
   * answer, with no lease. A tombstone, a stale entry or foreign data:
   * undefined, and the scripted lease takes over, as it does when Redis
   * refuses the command.
   */
  const takeMarker = async (key: string, lease: string): Promise<Taken | undefined> => {
    const reply = await setMarker(key, lease)
    if (reply === undefined) return undefined
    if (reply.kind === 'taken') return { acquired: markerAcquire(reply.lease), busy: undefined }
    if (reply.kind === 'held') return { acquired: busyAcquire(reply.expiresInMs), busy: reply }
    // A fill that landed since the caller's read (a quick holder) is its answer, as a busy acquire's entry is.
    const entry = entryOf(key, reply.raw)
    return entry !== undefined && entry.freshUntil > Date.now() ? { acquired: { lease: undefined, entry }, busy: undefined } : undefined
  }

  /**
   * `send` with the key's wake channel subscribed first, so a release right
   * after it can't slip by unheard, and the wake-ups heard until its reply
   * kept for the wait that follows a busy answer (`busyOf`).
   */
  const listeningAround = async <T>(key: string, send: () => Promise<T>, busyOf: (reply: T) => Busy | undefined): Promise<T> => {
    const waiters = ctx.waiters()
    const subscribing = waiters?.prepare(key)
    if (subscribing !== undefined) await bounded(subscribing, commands.timeoutMs, 'SUBSCRIBE').catch(ignore)
    const listening = waiters?.listening(key) === true ? waiters : undefined
    listening?.acquiring(key)
    let reply: T
    try {
      reply = await send()
    } catch (error) {
      listening?.acquired(key, undefined)
      throw error
    }
    listening?.acquired(key, busyOf(reply))
    return reply
  }

  /** The lease (a marker when the key has no entry, else at the lock key) and the entry, in one script. */
  const takeLease = async (key: string, lease: string): Promise<Taken> => {
    const token = randomUUID()
    const reply = (await commands.run(FUSED_ACQUIRE, [keys.lock(key), keys.fence(key), keys.value(key)], [token, lease, ctx.fenceTtl])) as unknown[]
    const won = Number(reply[0])
    if (won === 2) return { acquired: { lease: { key, token: String(reply[1]), fence: 0 }, entry: undefined, fenceAtFill: true }, busy: undefined }
    if (won === 1) return { acquired: { lease: { key, token, fence: Number(reply[1]) }, entry: entryOf(key, reply[2]) }, busy: undefined }
    const holder = String(reply[1] ?? '')
    const expiresInMs = Math.max(0, Number(reply[2]))
    return { acquired: { lease: undefined, entry: entryOf(key, reply[3]), expiresInMs }, busy: holder === '' ? undefined : { holder, expiresInMs } }
  }

  return {
    store: fusion.store,
    bus: fusion.bus,

    async acquire(key, ttlMs, hint) {
      const lease = leaseMs(ttlMs)
      const take = async () => (hint?.afterMiss === true && markers ? await takeMarker(key, lease) : undefined) ?? (await takeLease(key, lease))
      return (await listeningAround(key, take, (taken) => taken.busy)).acquired
    },

    /**
     * The marker as the read: an entry comes back as GET would return it
     * (nothing taken); an absent key is ours, a marker is busy. Where Redis
     * refuses the write (before 7.0, foreign data, out of memory, a replica,
     * an ACL without SET), a plain GET answers.
     */
    async readOrAcquire(key, ttlMs): Promise<FusedRead> {
      const lease = leaseMs(ttlMs)
      if (!markers) return { entry: await fusion.store.get(key) }
      const read = async (): Promise<MarkerReply | undefined> => {
        try {
          return await setMarker(key, lease)
        } catch (error) {
          if (error instanceof Error && WRITE_REFUSED.test(error.message)) return undefined
          throw error
        }
      }
      const reply = await listeningAround(key, read, (r) => (r?.kind === 'held' ? r : undefined))
      if (reply === undefined) return { entry: await fusion.store.get(key) }
      if (reply.kind === 'taken') return { entry: undefined, acquired: markerAcquire(reply.lease) }
      if (reply.kind === 'held') return { entry: undefined, acquired: busyAcquire(reply.expiresInMs) }
      return { entry: decodeEntry(reply.raw, key) }
    },

    async fill(lease, write, notify) {
      const encoded = write === undefined ? '' : encodeEntry(write.entry)
      const ttl = write === undefined ? '0' : storeTtl(write.ttlMs)
      // Sent by the script where it can publish on the bus channel; else after it (below), with the fence it took.
      const payload = notify === undefined || !inlineBus ? '' : busPayload(notify)
      const bus = inlineBus && notify !== undefined ? keys.bus : ''
      // The wake channel, how to publish, the header, the largest entry to push, and the Bus message.
      const wake = (pushLimit: number) => [keys.wake(lease.key), ctx.publishCommand, wakeHeader(lease.key), String(pushLimit), bus, payload]
      const marked = isMarker(lease.token)
      const reply = (
        marked
          ? await commands.run(
              FILL_MARKED,
              [keys.value(lease.key), keys.fence(lease.key)],
              [
                lease.token,
                encoded === '' ? '' : encoded.slice(encoded.indexOf(',')),
                ttl,
                ctx.fenceTtl,
                ...wake(Math.min(ctx.pushLimit, UNMARKED_PUSH_LIMIT)),
              ],
            )
          : await commands.run(
              FILL,
              [keys.value(lease.key), keys.lock(lease.key)],
              [lease.token, write === undefined ? '0' : String(write.entry.fence), encoded, ttl, ...wake(ctx.pushLimit)],
            )
      ) as unknown[]
      const written = Number(reply[0]) === 1
      const released = Number(reply[1]) === 1
      // A marker's fill took its fence as it wrote ('' when it wrote nothing that stays).
      const fence = marked && reply[2] != null && reply[2] !== '' ? Number(reply[2]) : undefined
      const kept = written && ttl !== '0' ? (fence === undefined ? write!.entry : { ...write!.entry, fence }) : undefined
      if (released) ctx.localWaiters()?.wake(lease.key, kept)
      if (afterBus && notify !== undefined && (written || write === undefined))
        publishAfter(busPayload(fence === undefined ? notify : { ...notify, fence }))
      return fence === undefined ? { written, released } : { written, released, fence }
    },

    // Not async: the wait's own promise, without an async function's extra turns between the wake-up and core.
    wait(key, timeoutMs, signal): Promise<FusedWait> {
      try {
        assertWaitMs(timeoutMs)
      } catch (error) {
        return Promise.reject(error)
      }
      const waiters = ctx.waiters()
      return waiters === undefined ? Promise.resolve({ woken: false }) : waiters.wait(key, timeoutMs, signal)
    },

    async write(key, entry, ttlMs, notify) {
      const encoded = encodeEntry(entry)
      const ttl = storeTtl(ttlMs)
      // Sent by the script where it can publish on the bus channel; else after it, with the fence it took.
      const payload = notify === undefined || !inlineBus ? '' : busPayload(notify)
      const reply = (await commands.run(
        FUSED_WRITE,
        [keys.fence(key), keys.value(key)],
        [ctx.fenceTtl, encoded.slice(encoded.indexOf(',')), ttl, inlineBus && notify !== undefined ? keys.bus : '', payload],
      )) as unknown[]
      const fence = Number(reply[0])
      if (afterBus && notify !== undefined) publishAfter(busPayload({ ...notify, fence }))
      return { fence, written: Number(reply[1]) === 1 }
    },
  }
}
