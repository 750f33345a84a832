import { type Entry, FRESH } from '../policies/freshness.js'
import { type Acquired, LeaseLostError } from '../ports/coordinator.js'
import type { TierRead } from '../ports/shared-tier.js'
import type { HerdContext } from './context.js'
import type { LoadJob, Loaded } from './job.js'
import { loadAndWrite } from './load.js'

/**
 * The fill under the lock: one loader per key across the fleet.
 *
 *     acquire ─ lease ─ double-check the Store ─ load ─ write ─ release
 *     (or start from what the miss's read acquired as it read)
 *             ├ busy ── wait for the holder's fill (pushed) ─ read it
 *             │          └ not filled (holder failed, lease ran out) ─ acquire again: take over
 *             └ solo ── load, written with a fence of this process's own
 *
 * A foreground fill (a miss someone waits for) waits out a busy key; a
 * background refresh steps back, since the holder is refreshing already.
 */
export async function fill<T>(h: HerdContext, job: LoadJob<T>): Promise<Loaded<T>> {
  const { key, signal } = job
  // The Store's last answer was "nothing there": the Lock may take the lease cheaper.
  let storeEmpty = job.storeEmpty === true
  let claimed = job.claimed
  for (;;) {
    const acquired = claimed ?? (await h.coordinator.acquire(key, signal, job.options.lock, storeEmpty))
    claimed = undefined
    if (acquired.kind === 'solo') return loadAndWrite(h, job, acquired.fence)
    if (acquired.kind === 'lease') {
      const done = await underLease(h, job, acquired, (entry) => h.tags.stateOf(entry, h.clock.now()) === FRESH)
      if (done !== undefined) return done
      continue // lost the lease mid-load: whoever holds it now is loading; wait for them
    }
    const landed = freshIn<T>(h, job, acquired.current)
    if (landed !== undefined) return landed
    const waited = await h.coordinator.wait(key, signal)
    signal.throwIfAborted()
    if (waited.kind === 'solo') return loadAndWrite(h, job, waited.fence)
    const read = (waited.kind === 'released' ? waited.current : undefined) ?? (await h.tier.read(key))
    const filled = freshIn<T>(h, job, read)
    if (filled !== undefined) return filled
    storeEmpty = read.kind === 'miss'
  }
}

export type RefreshReason = 'stale' | 'early' | 'schedule'

/**
 * A background refresh: one across the fleet. If another process holds the
 * lock it is refreshing already, so this one steps back for a while; the
 * winner re-reads the Store first in case the refresh already landed
 * (`alreadyDone`). Never rejects: a failed refresh backs the key off and
 * the stale value keeps being served. Resolves what it loaded, if it did.
 */
export async function refresh<T>(
  h: HerdContext,
  job: LoadJob<T>,
  reason: RefreshReason,
  alreadyDone: (latest: Entry) => boolean,
): Promise<Loaded<T> | undefined> {
  const { key } = job
  let started = 0
  let loaded: Loaded<T> | undefined
  try {
    const acquired = await h.coordinator.acquire(key, job.signal, job.options.lock)
    if (acquired.kind === 'busy') {
      h.holdOff.hold(key, Math.min(h.coordinator.leaseMs, 1_000), h.clock.now())
      return undefined
    }
    h.observer.refreshStarted(reason)
    started = performance.now()
    loaded = acquired.kind === 'solo' ? await loadAndWrite(h, job, acquired.fence) : await underLease(h, job, acquired, alreadyDone)
  } catch {
    h.holdOff.hold(key, h.errorBackoffMs, h.clock.now())
  }
  if (started > 0) h.observer.refresh(key, performance.now() - started, loaded !== undefined, reason)
  return loaded
}

/**
 * Holding the lease: double-check the Store (free when the Lock read it in
 * the same round trip), then load and write. The lease is given back
 * whatever happens (a fused fill already gave it back as it wrote).
 * Resolves undefined when the lease was lost mid-load.
 */
async function underLease<T>(
  h: HerdContext,
  job: LoadJob<T>,
  acquired: Acquired & { kind: 'lease' },
  alreadyDone: (latest: Entry) => boolean,
): Promise<Loaded<T> | undefined> {
  const { held } = acquired
  try {
    const current = acquired.current ?? (await h.tier.read(job.key))
    if (current.kind === 'entry' && alreadyDone(current.entry)) return adopt(h, job, current.entry)
    return await loadAndWrite(h, job, held.fence, held)
  } catch (error) {
    if (error instanceof LeaseLostError && !job.signal.aborted) return undefined
    throw error
  } finally {
    h.coordinator.release(held)
  }
}

/** A fresh entry someone else filled, kept locally and handed over. */
function freshIn<T>(h: HerdContext, job: LoadJob<T>, read: TierRead | undefined): Loaded<T> | undefined {
  if (read?.kind !== 'entry' || h.tags.stateOf(read.entry, h.clock.now()) !== FRESH) return undefined
  return adopt(h, job, read.entry)
}

function adopt<T>(h: HerdContext, job: LoadJob<T>, entry: Entry): Loaded<T> {
  if (job.options.local) h.local?.offer(job.key, entry, h.clock.now())
  return { value: entry.value as T | undefined, createdAt: entry.createdAt }
}
