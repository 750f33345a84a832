import type { Lease } from '../contracts/lock.js'
import type { Loader } from '../options.js'
import type { ResolvedEntryOptions } from '../options.js'
import { BYPASS } from './backend-guard.js'
import type { HerdContext } from './context.js'
import { type Entry, FRESH, stateOf } from './entry.js'
import { readStore } from './reads.js'
import { runLoader } from './run-loader.js'
import { encodeValue, writeEntry } from './writes.js'

/** A loaded value and when it was produced: this process's load, or the one another process wrote while we waited. */
export interface Loaded<T> {
  value: T | undefined
  createdAt: number
}

/** Our lease ran out and someone else may hold the key: stop, and wait for their value instead. */
export class LeaseLostError extends Error {
  constructor(key: string) {
    super(`herd: lost the lease on "${key}" while loading`)
    this.name = 'LeaseLostError'
  }
}

/**
 * Runs the loader once under the bulkhead, renewing the lease while it runs
 * (the loader's signal aborts if renewal is refused), then writes the value.
 */
export async function load<T>(
  h: HerdContext,
  key: string,
  loader: Loader<T>,
  o: ResolvedEntryOptions,
  stale: T | undefined,
  parent: AbortSignal,
  fence: number | undefined,
  lease: Lease | undefined,
  background: boolean,
): Promise<Loaded<T>> {
  let signal = parent
  let renewal: ReturnType<typeof setInterval> | undefined
  const lock = h.lock
  if (lease !== undefined && lock !== undefined) {
    const lost = new AbortController()
    signal = AbortSignal.any([parent, lost.signal])
    renewal = setInterval(
      () => {
        void h.guard
          .run('lock', key, () => lock.extend(lease, h.leaseMs))
          .then((kept) => {
            if (kept === false) lost.abort(new LeaseLostError(key))
          })
      },
      Math.max(1, Math.floor(h.leaseMs / 3)),
    )
    renewal.unref?.()
  }
  const freeSlot = await h.bulkhead.acquire(signal).catch((error: unknown) => {
    clearInterval(renewal)
    throw error
  })
  const started = performance.now()
  try {
    let outcome
    try {
      outcome = await runLoader(loader, key, signal, stale)
    } catch (error) {
      h.countLoad(key, performance.now() - started, false, background)
      if (!(error instanceof LeaseLostError) && !signal.aborted) h.reportError(key, 'loader', error)
      throw error
    }
    h.countLoad(key, outcome.loadMs, true, background)
    const encoded = encodeValue(h, outcome.value)
    const options = outcome.overrides === undefined ? o : { ...o, ...outcome.overrides }
    const createdAt = Date.now()
    await writeEntry(h, key, outcome.value, encoded, options, fence, outcome.loadMs, 'load', createdAt)
    return { value: outcome.value, createdAt }
  } finally {
    freeSlot()
    clearInterval(renewal)
  }
}

function release(h: HerdContext, lease: Lease): void {
  const lock = h.lock
  if (lock !== undefined) void h.guard.run('lock', lease.key, () => lock.release(lease))
}

/** A Store entry someone else filled while we were reading or waiting. */
async function filled(h: HerdContext, key: string): Promise<Entry | undefined> {
  const current = await readStore(h, key)
  if (current === undefined || stateOf(current, Date.now()) !== FRESH) return undefined
  h.local?.set(key, current, Date.now())
  return current
}

/**
 * A foreground load: one loader per key across the fleet. The winner of the
 * lock double-checks the Store and loads; the others wait to be woken by the
 * winner's release, read its value, and take over if its lease expired.
 */
export async function loadExclusive<T>(
  h: HerdContext,
  key: string,
  loader: Loader<T>,
  o: ResolvedEntryOptions,
  stale: T | undefined,
  signal: AbortSignal,
): Promise<Loaded<T>> {
  const lock = h.lock
  if (lock === undefined) return load(h, key, loader, o, stale, signal, h.nextLocalFence(), undefined, false)
  for (;;) {
    signal.throwIfAborted()
    const lease = await h.guard.run('lock', key, () => lock.acquire(key, h.leaseMs))
    signal.throwIfAborted()
    // The Lock is unreachable: in-process protection only, and nothing written to the Store.
    if (lease === BYPASS) return load(h, key, loader, o, stale, signal, undefined, undefined, false)
    if (lease !== undefined) {
      try {
        const current = await filled(h, key)
        if (current !== undefined) return current as Loaded<T>
        return await load(h, key, loader, o, stale, signal, lease.fence, lease, false)
      } catch (error) {
        if (error instanceof LeaseLostError && !signal.aborted) continue
        throw error
      } finally {
        release(h, lease)
      }
    }
    const started = Date.now()
    const woken = await h.guard.run('lock', key, () => lock.wait(key, h.leaseMs, signal), h.leaseMs + h.operationTimeoutMs)
    h.counters.lockWaits++
    h.counters.lockWaitMsTotal += Date.now() - started
    if (h.emitter.has('lock-wait')) h.emitter.emit('lock-wait', { key, waitedMs: Date.now() - started, woken: woken === true })
    signal.throwIfAborted()
    if (woken === BYPASS) return load(h, key, loader, o, stale, signal, undefined, undefined, false)
    const current = await filled(h, key)
    if (current !== undefined) return current as Loaded<T>
  }
}

export type RefreshReason = 'stale' | 'early' | 'schedule'

/**
 * A background refresh: one across the fleet. If another process holds the
 * lock it is refreshing already, so this one steps back for a while; the
 * winner re-reads the Store first in case the refresh already landed.
 */
export async function refresh<T>(
  h: HerdContext,
  key: string,
  loader: Loader<T>,
  o: ResolvedEntryOptions,
  current: Entry<T> | undefined,
  reason: RefreshReason,
  signal: AbortSignal,
  alreadyDone: (latest: Entry) => boolean,
): Promise<void> {
  let lease: Lease | undefined
  let fence: number | undefined
  const lock = h.lock
  if (lock === undefined) {
    fence = h.nextLocalFence()
  } else {
    const acquired = await h.guard.run('lock', key, () => lock.acquire(key, h.leaseMs))
    if (acquired === undefined) {
      h.holdOffFor(key, Math.min(h.leaseMs, 1_000))
      return
    }
    if (acquired !== BYPASS) {
      lease = acquired
      fence = acquired.fence
    }
  }
  h.counters.refreshes++
  if (reason === 'early') h.counters.earlyRefreshes++
  const started = performance.now()
  let ok = false
  try {
    if (lease !== undefined) {
      const latest = await readStore(h, key)
      if (latest !== undefined && alreadyDone(latest)) {
        h.local?.set(key, latest, Date.now())
        ok = true
        return
      }
    }
    await load(h, key, loader, o, current?.value, signal, fence, lease, true)
    ok = true
  } catch {
    h.counters.refreshErrors++
    h.holdOffFor(key, h.errorBackoffMs)
  } finally {
    if (lease !== undefined) release(h, lease)
    if (h.emitter.has('refresh')) h.emitter.emit('refresh', { key, durationMs: performance.now() - started, ok, reason })
  }
}
