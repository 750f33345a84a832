import type { StoredEntry } from '../contracts/store.js'
import { type Entry, ERROR_WINDOW, FRESH, STALE } from '../policies/freshness.js'
import { assertKey } from '../validate.js'
import type { HerdContext } from './context.js'

export type EntryStateName = 'fresh' | 'stale' | 'error-window' | 'gone'

/**
 * One tier's copy of an entry, as `inspect()` shows it: the stored fields
 * (times are epoch ms on the herd's clock) but the value, and its state,
 * its tags' invalidations taken into account. `negative`: "not found"
 * cached, or a tombstone left by delete().
 */
export interface InspectedEntry extends Omit<StoredEntry, 'value' | 'negative'> {
  state: EntryStateName
  negative: boolean
}

/** What the fleet and this process hold for a key: for operators, dashboards and tests. */
export interface Inspection {
  key: string
  /** The herd's clock when it looked. */
  at: number
  /** The shared tier's entry; `unreachable` when the Store could not be asked; undefined when it holds none (or there is no Store). */
  shared: InspectedEntry | 'unreachable' | undefined
  /** This process's local copy, and until when it trusts it without asking the Store. */
  local: (InspectedEntry & { until: number }) | undefined
  /** The key's lease: held by some process, and for how much longer; `unknown` when the Lock can't tell (or can't be reached). */
  lease: { held: boolean; expiresInMs?: number } | 'unknown' | undefined
  /** Whether this process has work under way for the key (a read, a load, a refresh). */
  inFlight: boolean
  /** Until when this process holds off loading the key (after a loader error, or while another process refreshes it). */
  heldOffUntil: number | undefined
}

const STATE_NAMES: Record<number, EntryStateName> = { [FRESH]: 'fresh', [STALE]: 'stale', [ERROR_WINDOW]: 'error-window' }

export async function inspect(h: HerdContext, key: string): Promise<Inspection> {
  h.assertOpen('inspect')
  assertKey(key, 'inspect')
  const at = h.clock.now()
  const [shared, lease] = await Promise.all([sharedEntry(h, key, at), leaseOf(h, key)])
  const local = h.local?.inspect(key, at)
  return {
    key,
    at,
    shared,
    local: local === undefined ? undefined : { ...describe(h, local.entry, at), until: local.until },
    lease,
    inFlight: h.flights.has(key),
    heldOffUntil: h.holdOff.until(key, at),
  }
}

async function sharedEntry(h: HerdContext, key: string, at: number): Promise<Inspection['shared']> {
  if (h.tier.store === undefined) return undefined
  const read = await h.tier.peek(key)
  if (read === 'unreachable' || read === undefined) return read
  return describe(h, read, at)
}

async function leaseOf(h: HerdContext, key: string): Promise<Inspection['lease']> {
  const lock = h.lock
  if (lock === undefined) return undefined
  if (lock.inspect === undefined) return 'unknown'
  const result = await h.guard.run('lock', key, () => lock.inspect!(key))
  return result.ok ? result.value : 'unknown'
}

function describe(h: HerdContext, entry: Entry, at: number): InspectedEntry {
  const { negative, fence, createdAt, freshUntil, staleUntil, errorUntil, loadMs, tags } = entry
  const described: InspectedEntry = {
    state: STATE_NAMES[h.tags.stateOf(entry, at)] ?? 'gone',
    negative,
    fence,
    createdAt,
    freshUntil,
    staleUntil,
    errorUntil,
    loadMs,
  }
  if (tags !== undefined) described.tags = tags
  return described
}
