import type { ResolvedEntryOptions } from '../options.js'
import { buildEntry, type Entry } from '../policies/freshness.js'
import type { HeldLease } from '../ports/coordinator.js'
import type { Fence } from '../ports/fence.js'
import type { TierWrite } from '../ports/shared-tier.js'
import type { HerdContext } from './context.js'
import type { WriteKind } from './observer.js'

/** One write of an entry: what, with which fence (and lease), and where besides the shared tier. */
export interface Write {
  readonly key: string
  readonly entry: Entry
  /** The codec's output for the entry's value ('' for none). */
  readonly encoded: string
  /** `next`: the write itself takes the fence (a set or delete in one round trip, or a fill under a lease taken without one); the entry gets it. */
  readonly fence: Fence | 'next'
  /** The lease it is written under (a load's); undefined for set and delete. */
  readonly held?: HeldLease
  readonly kind: Exclude<WriteKind, 'expire'>
  readonly now: number
  /** Until when the shared tier keeps it (a tombstone outlives its entry). */
  readonly keepUntil: number
  /** A strict set that did not reach the shared tier changes nothing, here included. */
  readonly strict?: boolean
  /** A call's `local: false` / `bus: false` leave those out. */
  readonly local?: boolean
  readonly bus?: boolean
  /** Makes the entry's value the codec's copy, when that was put off until the write was sent (see commitLoaded). */
  readonly decode?: () => void
}

/**
 * A loader's value, written as an entry with `fence` (and the lease it was
 * loaded under). The callers of the load get the loader's own value; every
 * later read, from either tier, gets the codec's round trip. A ttl of 0
 * ("return it, don't cache it") writes nothing; the lease is given back by
 * the fill. Resolves when the entry was created.
 */
export async function commitLoaded(
  h: HerdContext,
  key: string,
  value: unknown,
  encoded: string,
  options: ResolvedEntryOptions,
  fence: Fence | 'next',
  held: HeldLease | undefined,
  loadMs: number,
): Promise<number> {
  const now = h.clock.now()
  const later = h.tier.readsBackAnything
  const entry = buildEntry(later ? value : h.tier.roundTrip(encoded, value), options, fence === 'next' ? 0 : fence.value, now, loadMs)
  if (entry === undefined) return now
  entry.size = encoded.length
  // The copy later readers get (a parse of the value) is made once the write is on the wire, when the codec can't
  // fail to read it back: a fill wakes the whole fleet, and node-redis writes a command only in a setImmediate of its
  // own, after the work of the turn that sent it. The write reads only the encoded bytes; only the local tier keeps
  // the copy, and makes it first if the answer came sooner (an in-process Store); without one it is never made.
  let decoded = !later
  const decode = (): void => {
    if (decoded) return
    decoded = true
    entry.value = h.tier.roundTrip(encoded, value)
  }
  const written = commit(h, {
    key,
    entry,
    encoded,
    fence,
    held,
    kind: 'load',
    now,
    keepUntil: entry.errorUntil,
    local: options.local,
    bus: options.bus,
    decode,
  })
  if (later && h.local !== undefined && options.local !== false) setImmediate(decode)
  await written
  return now
}

/**
 * Writes an entry everywhere it belongs, in order: the shared tier (fenced;
 * under a fused Lock the same round trip also releases the lease, wakes the
 * waiters and tells the fleet), the local tier, then the Bus. A write that
 * did not reach the shared tier stays in this process and tells nobody: the
 * other processes' copies are no older than what the Store still holds.
 */
export function commit(h: HerdContext, write: Write): Promise<TierWrite> {
  return h.observer.traceWrite(write.key, write.kind, async (context) => {
    const result = await writeEverywhere(h, write)
    if (context !== undefined) context.outcome = result
    return result
  })
}

async function writeEverywhere(h: HerdContext, write: Write): Promise<TierWrite> {
  const { key, entry, encoded, fence, held, kind, now, keepUntil } = write
  const local = write.local !== false
  const bus = write.bus !== false
  // Tag records must outlive every entry that may carry their tag.
  if (keepUntil - now > h.longestLifetimeMs) h.longestLifetimeMs = keepUntil - now
  let result: TierWrite
  let notified = false
  // What the Bus says of it: a load or a set is a new value.
  const message = kind === 'delete' ? 'delete' : 'set'
  const fills = held !== undefined && h.coordinator.fused !== undefined && (fence === 'next' || fence.kind === 'fleet')
  if (fills || fence === 'next') {
    // A fence taken as the write lands ('next') is added by the Lock, which learns it then.
    const notify = h.coordinator.notifiesOnFill && bus ? h.bus.message(message, key, fenceOf(message, fence)) : undefined
    result = fills
      ? await h.coordinator.fill(held!, { entry, encoded, keepUntil }, now, notify)
      : await h.coordinator.writeWithNextFence(key, message, { entry, encoded, keepUntil }, now, notify)
    notified = notify !== undefined && result !== 'local-only'
    if (notified) h.bus.delivered(notify!)
  } else {
    result = await h.tier.write({ ...write, fence })
  }
  const tier = h.local
  if (tier !== undefined && result !== 'fenced-out' && local && !(write.strict === true && result === 'local-only' && kind === 'set')) {
    write.decode?.()
    if (kind === 'load') tier.offer(key, entry, now, result === 'local-only')
    else tier.put(key, entry, now, kind === 'delete' ? keepUntil : undefined)
  }
  // In-process protection while the fleet is unreachable: this process loads the key at most once per backoff.
  if (kind === 'load' && result === 'local-only') h.holdOff.hold(key, h.errorBackoffMs, now)
  if (result === 'written' && !notified && bus && h.bus.bus !== undefined) h.bus.publish(message, key, message === 'set' ? entry.fence : undefined)
  return result
}

/** The fence a `set` message carries when it is known before the write is sent. */
function fenceOf(message: 'set' | 'delete', fence: Fence | 'next'): number | undefined {
  return message === 'set' && fence !== 'next' ? fence.value : undefined
}
