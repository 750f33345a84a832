import { describe } from '../duration.js'
import { HerdArgumentError } from '../errors.js'
import { type BatchLoader, type FetchManyOptions, positiveInteger } from '../options.js'
import { type Entry, ERROR_WINDOW, FRESH, STALE } from '../policies/freshness.js'
import { assertKey, assertLoader, assertSignal } from '../validate.js'
import type { HerdContext } from './context.js'
import { type ManyJob, fillMany, refreshMany } from './fill-many.js'
import { Flight } from './flight.js'
import { answerFromStore, refreshDue } from './read-path.js'

/**
 * fetchMany: the read path for many keys at once, with every guarantee of
 * the single path per key.
 *
 *     local tier     fresh / stale → answered (stale ones refreshed in one background batch)
 *     flights        a key already under way in this process is joined
 *     shared tier    the rest in one batch read (getMany); fresh / stale → answered
 *     miss           fill-many.ts: acquire all, load the keys nobody holds in one loader call
 *
 * Resolves an array aligned with `keys` (a key given twice gets the same
 * value twice; the loader sees it once). Rejects with the first error of a
 * key that could not be answered, like Promise.all; every key's own callers
 * (and concurrent fetches of it) get that key's own outcome.
 */
export function readMany<T>(h: HerdContext, keys: readonly string[], loader: BatchLoader<T>, options: FetchManyOptions | undefined): Promise<T[]> {
  let job: ManyJob<T>
  let signal: AbortSignal | undefined
  try {
    h.assertOpen('fetchMany')
    if (!Array.isArray(keys)) throw new HerdArgumentError(`herd: fetchMany() needs an array of keys; got ${describe(keys)}`)
    for (const key of keys) assertKey(key, 'fetchMany')
    assertLoader(loader, 'fetchMany')
    let o = h.defaults
    let maxBatch = Number.POSITIVE_INFINITY
    if (options !== undefined) {
      const { maxBatch: batch, ...rest } = options ?? {}
      o = h.resolveCallOptions(rest, 'fetchMany()')
      if (batch !== undefined) maxBatch = positiveInteger(batch, 'fetchMany() maxBatch')
      signal = options.signal
      assertSignal(signal)
    }
    job = { loader, options: o, maxBatch, reason: 'miss' }
  } catch (error) {
    return Promise.reject(error)
  }
  if (signal?.aborted) return Promise.reject(signal.reason)
  const o = job.options
  const answers = new Map<string, Promise<unknown>>()
  const toResolve: Flight[] = []
  const toRefresh: Record<'stale' | 'early', Array<{ key: string; current: Entry }>> = { stale: [], early: [] }
  const now = h.clock.coarse()
  for (const key of keys) {
    if (answers.has(key)) continue
    const local = o.local ? h.local?.get(key, now) : undefined
    let fallback: Entry | undefined
    if (local !== undefined) {
      const state = h.tags.stateOf(local, now)
      if (state === FRESH || state === STALE) {
        if (state === FRESH) h.observer.hit(key, 'local', local.negative)
        else h.observer.stale(key, 'local', 'revalidate')
        const reason = h.flights.has(key) ? undefined : refreshDue(h, key, local, state, now, o.beta)
        if (reason !== undefined) toRefresh[reason].push({ key, current: local })
        answers.set(key, Promise.resolve(local.value))
        continue
      }
      if (state === ERROR_WINDOW) fallback = local
    }
    let flight = h.flights.get(key)
    if (flight !== undefined) {
      h.observer.coalesced(key)
      flight.urge()
    } else {
      flight = Flight.open(h, key)
      if (fallback !== undefined) flight.offerFallback(fallback, 'local')
      toResolve.push(flight)
    }
    answers.set(key, flight.joinValue(signal))
  }
  for (const reason of ['stale', 'early'] as const) if (toRefresh[reason].length > 0) startRefreshMany(h, toRefresh[reason], { ...job, reason })
  if (toResolve.length > 0) void resolveMany(h, toResolve, job)
  return Promise.all(keys.map((key) => answers.get(key)!)) as Promise<T[]>
}

/** The cached values (fresh, or stale inside staleWhileRevalidate) of `keys`, aligned with them, without loading; one batch read for the keys not held here. */
export async function getMany(h: HerdContext, keys: readonly string[]): Promise<unknown[]> {
  h.assertOpen('getMany')
  if (!Array.isArray(keys)) throw new HerdArgumentError(`herd: getMany() needs an array of keys; got ${describe(keys)}`)
  for (const key of keys) assertKey(key, 'getMany')
  const values = new Map<string, unknown>()
  const unread: string[] = []
  const now = h.clock.now()
  for (const key of new Set(keys)) {
    const local = h.local?.get(key, now)
    if (local !== undefined && h.tags.stateOf(local, now) <= STALE) values.set(key, local.value)
    else unread.push(key)
  }
  const reads = await h.tier.readMany(unread)
  unread.forEach((key, i) => {
    const read = reads[i]!
    if (read.kind !== 'entry' || h.tags.stateOf(read.entry, h.clock.now()) > STALE) return
    h.local?.offer(key, read.entry, h.clock.now())
    values.set(key, read.entry.value)
  })
  return keys.map((key) => values.get(key))
}

/** The flights of keys that missed the local tier: one batch read, then refreshes for stale ones and one fill for the misses. */
async function resolveMany<T>(h: HerdContext, flights: Flight[], job: ManyJob<T>): Promise<void> {
  const o = job.options
  try {
    const reads = await h.tier.readMany(flights.map((flight) => flight.key))
    const now = h.clock.now()
    const misses: Flight[] = []
    const empty = new Set<Flight>()
    const refreshes: Record<'stale' | 'early', Array<{ flight: Flight; current: Entry }>> = { stale: [], early: [] }
    flights.forEach((flight, i) => {
      const read = reads[i]!
      if (read.kind === 'entry') {
        const entry = read.entry
        const state = h.tags.stateOf(entry, now)
        if (state <= STALE) {
          answerFromStore(h, flight, entry, state, now, o)
          const reason = refreshDue(h, flight.key, entry, state, now, o.beta)
          if (reason !== undefined) refreshes[reason].push({ flight, current: entry })
          else flight.close() // answered: a caller resuming with it and asking again reads afresh
          return
        }
        if (state === ERROR_WINDOW) flight.offerFallback(entry, 'store')
      } else empty.add(flight)
      h.observer.miss(flight.key)
      if (flight.hasFallback && h.holdOff.active(flight.key, now) && flight.standIn('backoff')) return
      flight.armTimeouts(o.hardTimeout, o.softTimeout)
      misses.push(flight)
    })
    await Promise.all([
      ...(['stale', 'early'] as const).map((reason) => refreshMany(h, refreshes[reason], { ...job, reason })),
      misses.length > 0 ? fillMany(h, misses, job, empty) : undefined,
    ])
  } finally {
    for (const flight of flights) flight.close()
  }
}

/** Background refreshes of local hits, behind flights of their own (answered at once with the current value). */
function startRefreshMany<T>(h: HerdContext, items: ReadonlyArray<{ key: string; current: Entry }>, job: ManyJob<T>): void {
  const flights = items.map(({ key, current }) => {
    const flight = Flight.open(h, key)
    flight.provide(current.value, job.reason === 'stale' ? 'stale' : 'hit', current.createdAt, 'local')
    return { flight, current }
  })
  void refreshMany(h, flights, job).finally(() => {
    for (const { flight } of flights) flight.close()
  })
}
