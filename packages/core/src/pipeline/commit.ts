import type { Entry } from '../policies/freshness.js'
import type { HeldLease } from '../ports/coordinator.js'
import type { Fence } from '../ports/fence.js'
import type { TierWrite } from '../ports/shared-tier.js'
import type { HerdContext } from './context.js'
import type { WriteKind } from './observer.js'


/** Where a write goes besides the shared tier: a call's `local: false` / `bus: false` leave those out. */
export interface WriteOptions {
  readonly local: boolean
  readonly bus: boolean
}

const EVERYWHERE: WriteOptions = { local: true, bus: true }

/**
 * Writes an entry everywhere it belongs, in order: the shared tier (fenced;
 * under a fused Lock the same round trip also releases the lease, wakes the
 * waiters and tells the fleet), the local tier, then the Bus. A write that
 * did not reach the shared tier stays in this process and tells nobody: the
 * other processes' copies are no older than what the Store still holds.
 */
export function commit(
  h: HerdContext,
  key: string,
  entry: Entry,
  encoded: string,
  fence: Fence,
  held: HeldLease | undefined,
  kind: Exclude<WriteKind, 'expire'>,
  now: number,
  keepUntil: number,
  strict = false,
  options: WriteOptions = EVERYWHERE,
): Promise<TierWrite> {
  return h.observer.traceWrite(key, kind, async (context) => {
    const result = await writeEverywhere(h, key, entry, encoded, fence, held, kind, now, keepUntil, strict, options)
    if (context !== undefined) context.outcome = result
    return result
  })
}

async function writeEverywhere(
  h: HerdContext,
  key: string,
  entry: Entry,
  encoded: string,
  fence: Fence,
  held: HeldLease | undefined,
  kind: Exclude<WriteKind, 'expire'>,
  now: number,
  keepUntil: number,
  strict: boolean,
  options: WriteOptions,
): Promise<TierWrite> {
  // Tag records must outlive every entry that may carry their tag.
  if (keepUntil - now > h.longestLifetimeMs) h.longestLifetimeMs = keepUntil - now
  let result: TierWrite
  let notified = false
  if (held !== undefined && h.coordinator.fused !== undefined && fence.kind === 'fleet') {
    const notify = h.coordinator.notifiesOnFill && options.bus ? h.bus.message('set', key) : undefined
    result = await h.coordinator.fill(held, { entry, encoded, keepUntil }, now, notify)
    notified = notify !== undefined && result !== 'local-only'
    if (notified) h.bus.delivered(notify!)
  } else {
    result = await h.tier.write(key, entry, encoded, fence, keepUntil, now, kind)
  }
  // A strict set that did not reach the shared tier changes nothing, here included.
  if (result !== 'fenced-out' && options.local && !(strict && result === 'local-only' && kind === 'set')) {
    if (kind === 'load') h.local?.offer(key, entry, now, result === 'local-only')
    else h.local?.put(key, entry, now, kind === 'delete' ? keepUntil : undefined)
  }
  // In-process protection while the fleet is unreachable: this process loads the key at most once per backoff.
  if (kind === 'load' && result === 'local-only') h.holdOff.hold(key, h.errorBackoffMs, now)
  if (result === 'written' && !notified && options.bus && h.bus.bus !== undefined) h.bus.publish(kind === 'delete' ? 'delete' : 'set', key)
  return result
}
