import { type FetchContext, fetchChannel } from '../diagnostics.js'
import { HerdArgumentError, HerdEncodeError } from '../errors.js'
import type { Tier } from '../events.js'
import type { FetchOptions, FetchResult, Loader, ResolvedEntryOptions } from '../options.js'
import { type Entry, type EntryState, ERROR_WINDOW, FRESH, STALE } from '../policies/freshness.js'
import { shouldRefreshEarly } from '../policies/xfetch.js'
import { assertKey, assertLoader, assertSignal } from '../validate.js'
import type { HerdContext } from './context.js'
import { type RefreshReason, fill, refresh } from './fill.js'
import { Flight } from './flight.js'
import type { LoadJob, Loaded } from './job.js'
import type { Acquired } from '../ports/coordinator.js'
import type { TierRead } from '../ports/shared-tier.js'

/**
 * The read path, top to bottom:
 *
 *     local tier   fresh → answer (maybe refresh early, in the background)
 *                  stale → answer, refresh in the background
 *     flight       one per key per process: every concurrent caller joins it
 *       shared tier  fresh or stale → answer (and refresh as above)
 *       miss         fill under the lock (see fill.ts); a value past its
 *                    stale window stands in if the load fails or is slow
 *
 * `withStatus` picks fetchEntry's answer over fetch's bare value.
 */
export function read(h: HerdContext, key: string, loader: Loader<unknown>, options: FetchOptions | undefined, withStatus: boolean): Promise<unknown> {
  // Checked here, not in the Observer: the local hit is the hot path, and a closure per call is not free.
  if (!fetchChannel.hasSubscribers) return readTraced(h, key, loader, options, withStatus, undefined)
  return h.observer.traceFetch(key, (traced) => readTraced(h, key, loader, options, withStatus, traced))
}

/** The read path itself; `traced` (when someone subscribes to herd:fetch) learns how the caller was answered. */
function readTraced(
  h: HerdContext,
  key: string,
  loader: Loader<unknown>,
  options: FetchOptions | undefined,
  withStatus: boolean,
  traced: FetchContext | undefined,
): Promise<unknown> {
  let o = h.defaults
  let signal: AbortSignal | undefined
  try {
    h.assertOpen(withStatus ? 'fetchEntry' : 'fetch')
    assertKey(key, 'fetch')
    assertLoader(loader, 'fetch')
    if (options !== undefined) {
      o = h.resolveCallOptions(options, withStatus ? 'fetchEntry()' : 'fetch()')
      signal = options.signal
      assertSignal(signal)
    }
  } catch (error) {
    return Promise.reject(error)
  }
  // A caller that has already given up gets its own reason, and nothing runs for it.
  if (signal?.aborted) return Promise.reject(signal.reason)
  let fallback: Entry | undefined
  // The coarse clock only where a local hit can answer: with no local tier the read goes to the Store, a round trip
  // anyway, and the coarse clock's 1 ms timer, set afresh every millisecond of Redis hits, costs more than it saves.
  const localTier = o.local ? h.local : undefined
  if (localTier !== undefined) {
    const now = h.clock.coarse()
    const local = localTier.get(key, now)
    if (local !== undefined) {
      const state = h.tags.stateOf(local, now)
      if (state === FRESH) {
        if (shouldRefreshEarly(local, now, o.beta) && !h.flights.has(key)) startRefresh(h, key, loader, o, local, 'early')
        h.observer.hit(key, 'local', local.negative)
        if (traced !== undefined) answered(traced, 'hit', 'local')
        return Promise.resolve(withStatus ? { value: local.value, status: 'hit', createdAt: local.createdAt } : local.value)
      }
      if (state === STALE) {
        if (!h.flights.has(key) && !h.holdOff.active(key, now)) startRefresh(h, key, loader, o, local, 'stale')
        h.observer.stale(key, 'local', 'revalidate')
        if (traced !== undefined) answered(traced, 'stale', 'local')
        return Promise.resolve(withStatus ? { value: local.value, status: 'stale', createdAt: local.createdAt } : local.value)
      }
      if (state === ERROR_WINDOW) fallback = local
    }
  }
  let flight = h.flights.get(key)
  const coalesced = flight !== undefined
  if (flight !== undefined) {
    h.observer.coalesced(key)
    flight.urge()
  } else {
    flight = Flight.open(h, key)
    if (fallback !== undefined) flight.offerFallback(fallback, 'local')
    resolveFlight(h, flight, loader, o)
  }
  if (traced === undefined) return withStatus ? flight.join(signal) : flight.joinValue(signal)
  const answeredBy = flight
  const joined = flight.join(signal).then((result) => {
    answered(traced, coalesced ? 'coalesced' : result.status, answeredBy.tier)
    return result
  })
  return withStatus ? joined : joined.then(valueOf)
}

function answered(context: FetchContext, status: FetchContext['status'], tier: Tier | undefined): void {
  context.status = status
  if (tier !== undefined) context.tier = tier
}

/** The cached value (fresh, or stale inside staleWhileRevalidate), without loading. */
export async function get(h: HerdContext, key: string): Promise<unknown> {
  h.assertOpen('get')
  assertKey(key, 'get')
  const now = h.clock.now()
  const local = h.local?.get(key, now)
  if (local !== undefined && h.tags.stateOf(local, now) <= STALE) return local.value
  const read = await h.tier.read(key)
  if (read.kind === 'miss' || h.tags.stateOf(read.entry, h.clock.now()) > STALE) return undefined
  h.local?.offer(key, read.entry, h.clock.now())
  return read.entry.value
}

/**
 * A refresh behind a flight of its own, so it runs once per process: for a
 * stale or early local hit (answered at once with `current`) and for
 * keepFresh's schedule. A caller that joins a scheduled refresh with no
 * value to answer gets what it loads, or, if it stepped back, the usual read.
 */
export function startRefresh(
  h: HerdContext,
  key: string,
  loader: Loader<unknown>,
  o: ResolvedEntryOptions,
  current: Entry | undefined,
  reason: RefreshReason,
  alreadyDone?: (latest: Entry) => boolean,
): void {
  const flight = Flight.open(h, key)
  if (current !== undefined) flight.provide(current.value, reason === 'stale' ? 'stale' : 'hit', current.createdAt, 'local')
  void refreshIn(h, flight, loader, o, current, reason, alreadyDone).then((loaded) => {
    if (flight.settled) return flight.close()
    if (loaded !== undefined) return flight.finish(loaded.value, 'miss', loaded.createdAt)
    resolveFlight(h, flight, loader, o)
  })
}

/**
 * The flight of a key that missed the local tier: the shared tier, then (on a miss) one fill, fleet-wide. The read
 * answers through a callback, not an await: on a Store hit, the hot path, the callers are answered in the callback
 * that settles the Store's reply, with no async frame or promise of core's in between.
 */
function resolveFlight(h: HerdContext, flight: Flight, loader: Loader<unknown>, o: ResolvedEntryOptions): void {
  const key = flight.key
  const next = (read: TierRead, claimed?: Acquired): void => {
    try {
      afterRead(h, flight, loader, o, read, claimed)
    } catch (error) {
      // afterRead throws nothing by design; if it ever does, the callers hear of it rather than wait forever.
      flight.fail(error)
    }
  }
  const failed = (error: unknown): void => flight.fail(error)
  // Where a miss is likely, the read takes the lease too, one round trip for both. Not for a fallback held off,
  // which is served without loading.
  if (h.coordinator.claimsOnRead(o.lock) && !(flight.hasFallback && h.holdOff.active(key, h.clock.now()))) {
    h.coordinator.readClaiming(key, flight.signal).then(({ read, claimed }) => next(read, claimed), failed)
  } else h.tier.readThen(key, next, failed)
}

/**
 * What the read found: a servable entry answers the flight (and may start a
 * refresh), anything else goes to the miss path. `claimed`, a lease the read
 * took (readOrAcquire), passes to the miss path or is given back. The flight
 * is closed once nothing is left to do, synchronously with the last
 * provide(): a caller resuming after it never joins a finished flight.
 */
function afterRead(h: HerdContext, flight: Flight, loader: Loader<unknown>, o: ResolvedEntryOptions, read: TierRead, claimed: Acquired | undefined): void {
  const key = flight.key
  h.coordinator.noteRead(read)
  if (read.kind === 'entry') {
    const entry = read.entry
    const now = h.clock.now()
    const state = h.tags.stateOf(entry, now)
    if (state <= STALE) {
      if (claimed?.kind === 'lease') h.coordinator.release(claimed.held)
      answerFromStore(h, flight, entry, state, now, o)
      const reason = refreshDue(h, key, entry, state, now, o.beta)
      // Nothing left to do: closed with its answer. A refresh keeps it open, so callers meanwhile join it.
      if (reason === undefined) flight.close()
      else void refreshIn(h, flight, loader, o, entry, reason).then(() => flight.close())
      return
    }
    if (state === ERROR_WINDOW) flight.offerFallback(entry, 'store')
  }
  h.observer.miss(key)
  void resolveMiss(h, flight, loader, o, read.kind === 'miss', claimed).finally(() => flight.close())
}

/** A Store entry that is fresh or inside staleWhileRevalidate answers its flight, and is kept in the local tier. */
export function answerFromStore(h: HerdContext, flight: Flight, entry: Entry, state: EntryState, now: number, o: ResolvedEntryOptions): void {
  if (o.local) h.local?.offer(flight.key, entry, now)
  if (state === FRESH) h.observer.hit(flight.key, 'store', entry.negative)
  else h.observer.stale(flight.key, 'store', 'revalidate')
  flight.provide(entry.value, state === FRESH ? 'hit' : 'stale', entry.createdAt, 'store')
}

/**
 * The background refresh an answered entry calls for: a stale one (unless
 * the key is held off), an early one when XFetch draws it, or none.
 */
export function refreshDue(h: HerdContext, key: string, entry: Entry, state: EntryState, now: number, beta: number): 'stale' | 'early' | undefined {
  if (state === STALE) return h.holdOff.active(key, now) ? undefined : 'stale'
  return state === FRESH && shouldRefreshEarly(entry, now, beta) ? 'early' : undefined
}

/**
 * Nothing servable anywhere: serve the fallback while backed off, else fill
 * (from `claimed`, what the read's acquire got, if it made one); a failed
 * fill serves the fallback inside staleIfError.
 */
async function resolveMiss(
  h: HerdContext,
  flight: Flight,
  loader: Loader<unknown>,
  o: ResolvedEntryOptions,
  storeEmpty: boolean,
  claimed: Acquired | undefined,
): Promise<void> {
  const key = flight.key
  try {
    if (flight.hasFallback && h.holdOff.active(key, h.clock.now()) && flight.standIn('backoff')) {
      if (claimed?.kind === 'lease') h.coordinator.release(claimed.held)
      return
    }
    flight.armTimeouts(o.hardTimeout, o.softTimeout)
    const loaded = await fill(h, jobOf(flight, loader, o, flight.staleValue, 'miss', storeEmpty, claimed))
    flight.finish(loaded.value, 'miss', loaded.createdAt)
  } catch (error) {
    // Bad input fails the call that caused it; it never turns into a stale serve.
    if (error instanceof HerdEncodeError || error instanceof HerdArgumentError) return flight.fail(error)
    if (!flight.signal.aborted) h.holdOff.hold(key, h.errorBackoffMs, h.clock.now())
    if (!flight.standIn('error')) flight.fail(error)
  }
}

/**
 * A refresh once its turn comes (maxConcurrentRefreshes); its hard timeout
 * counts from then, so time spent waiting for a turn doesn't cut its load
 * short. Resolves undefined without running if the flight ends first (close()).
 */
async function refreshIn(
  h: HerdContext,
  flight: Flight,
  loader: Loader<unknown>,
  o: ResolvedEntryOptions,
  current: Entry | undefined,
  reason: RefreshReason,
  alreadyDone = (latest: Entry) => current !== undefined && latest.fence > current.fence,
): Promise<Loaded | undefined> {
  try {
    return await h.refreshBulkhead.run(
      flight.signal,
      () => {
        flight.armTimeouts(o.hardTimeout, undefined)
        return refresh(h, jobOf(flight, loader, o, current?.value, reason), reason, alreadyDone)
      },
      (jump) => {
        flight.hurry = jump
      },
    )
  } catch {
    // Its turn never came (refresh() itself never rejects).
    return undefined
  }
}

function jobOf(
  flight: Flight,
  loader: Loader<unknown>,
  options: ResolvedEntryOptions,
  stale: unknown,
  reason: LoadJob['reason'],
  storeEmpty = false,
  claimed?: Acquired,
): LoadJob {
  return { key: flight.key, loader, options, stale, signal: flight.signal, reason, storeEmpty, claimed }
}

function valueOf<T>(result: FetchResult<T>): T | undefined {
  return result.value
}
