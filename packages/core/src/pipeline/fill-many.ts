import { HerdArgumentError, HerdEncodeError } from '../errors.js'
import { type BatchLoader, type ResolvedEntryOptions, withOverrides } from '../options.js'
import { type Entry, FRESH } from '../policies/freshness.js'
import type { HeldLease } from '../ports/coordinator.js'
import type { Fence } from '../ports/fence.js'
import type { TierRead } from '../ports/shared-tier.js'
import { type Cancel, cancelWhenAll } from './cancel.js'
import { commitLoaded } from './commit.js'
import type { HerdContext } from './context.js'
import type { Flight } from './flight.js'
import type { RefreshReason } from './fill.js'
import { countedLoad } from './load.js'
import { runBatchLoader } from './run-loader.js'

/** One key of a batch: its flight, and the fence (and lease) its write will carry. */
interface Item {
  readonly flight: Flight
  readonly fence: Fence | 'next'
  readonly held: HeldLease | undefined
}

export interface ManyJob<T> {
  readonly loader: BatchLoader<T>
  readonly options: ResolvedEntryOptions
  readonly maxBatch: number
  readonly reason: 'miss' | RefreshReason
}

/**
 * The fill under the lock for many keys: fill.ts's steps, each taken for
 * every key at once so the batch costs a round trip per step, not per key.
 *
 *     acquire all ─ leases / solo ── double-check (one batch read) ── one loader call per maxBatch ── write each ── release
 *                 └ busy ─────────── wait for every holder ── read what they filled (one batch read)
 *                                    └ not filled ── next round: take over
 *
 * Each key keeps its own guarantees: its own fence on write, its own
 * stand-in if the load fails. Resolves once every flight has its answer.
 */
export async function fillMany<T>(h: HerdContext, flights: readonly Flight[], job: ManyJob<T>, storeEmpty: Set<Flight>): Promise<void> {
  const open = new Set(flights)
  while (open.size > 0) {
    const round = [...open]
    const acquired = await Promise.all(
      round.map((flight) => h.coordinator.acquire(flight.key, flight.signal, job.options.lock, storeEmpty.has(flight)).catch(() => undefined)),
    )
    const toLoad: Item[] = []
    const toCheck: Item[] = []
    const busy: Flight[] = []
    round.forEach((flight, i) => {
      const got = acquired[i]
      if (got === undefined) return void open.delete(flight) // its callers left: the flight was failed as they did
      if (got.kind === 'solo') toLoad.push({ flight, fence: got.fence, held: undefined })
      else if (got.kind === 'busy') {
        if (landed(h, flight, got.current, job)) return void open.delete(flight)
        // An entry is there after all (not a fresh one): the next round's acquire is the scripted one.
        if (got.current?.kind === 'entry') storeEmpty.delete(flight)
        busy.push(flight)
      } else if (got.current === undefined) toCheck.push({ flight, fence: got.held.fence, held: got.held })
      else if (landed(h, flight, got.current, job)) {
        h.coordinator.release(got.held)
        open.delete(flight)
      } else toLoad.push({ flight, fence: got.held.fence, held: got.held })
    })
    if (toCheck.length > 0) {
      const reads = await h.tier.readMany(toCheck.map((item) => item.flight.key))
      toCheck.forEach((item, i) => {
        if (!landed(h, item.flight, reads[i], job)) return void toLoad.push(item)
        h.coordinator.release(item.held!)
        open.delete(item.flight)
      })
    }
    const [{ lost }] = await Promise.all([loadInChunks(h, toLoad, job), waitForHolders(h, busy, job)])
    for (const item of toLoad) if (!lost.has(item)) open.delete(item.flight)
    for (const flight of busy) if (flight.settled) open.delete(flight)
  }
}

/** Waits for each busy key's holder, then reads (in one batch) what was not handed over with the wake-up. */
async function waitForHolders<T>(h: HerdContext, busy: readonly Flight[], job: ManyJob<T>): Promise<void> {
  if (busy.length === 0) return
  const waited = await Promise.all(busy.map((flight) => h.coordinator.wait(flight.key, flight.signal)))
  const unread: Flight[] = []
  busy.forEach((flight, i) => {
    const w = waited[i]!
    if (w.kind !== 'released' || !landed(h, flight, w.current, job)) unread.push(flight)
  })
  const live = unread.filter((flight) => !flight.signal.aborted)
  if (live.length === 0) return
  const reads = await h.tier.readMany(live.map((flight) => flight.key))
  live.forEach((flight, i) => landed(h, flight, reads[i], job))
}

/** A fresh entry someone else filled: kept locally and handed to the flight's callers. */
function landed<T>(h: HerdContext, flight: Flight, read: TierRead | undefined, job: ManyJob<T>): boolean {
  if (read?.kind !== 'entry') return false
  const now = h.clock.now()
  if (h.tags.stateOf(read.entry, now) !== FRESH) return false
  if (job.options.local) h.local?.offer(flight.key, read.entry, now)
  flight.finish(read.entry.value, 'miss', read.entry.createdAt)
  return true
}

/** Loads `items` in calls of at most maxBatch keys; says which lost their lease mid-load (to go round again) and which failed. */
async function loadInChunks<T>(h: HerdContext, items: readonly Item[], job: ManyJob<T>): Promise<{ lost: Set<Item>; failed: Set<Item> }> {
  const lost = new Set<Item>()
  const failed = new Set<Item>()
  const chunks: Item[][] = []
  for (let i = 0; i < items.length; i += job.maxBatch) chunks.push(items.slice(i, i + job.maxBatch))
  await Promise.all(chunks.map((chunk) => loadChunk(h, chunk, job, lost, failed)))
  return { lost, failed }
}

/**
 * A background refresh of many stale (or early) keys: one batch across the
 * fleet. A key another process holds is being refreshed already (this one
 * steps back a while); a key someone refreshed meanwhile (`alreadyDone`) is
 * taken as is; the rest load in one call per maxBatch. It is one refresh
 * for maxConcurrentRefreshes, and gives up its turn if every key's flight
 * ends while it waits (close()). Never rejects.
 */
export async function refreshMany<T>(h: HerdContext, items: ReadonlyArray<{ flight: Flight; current: Entry }>, job: ManyJob<T>): Promise<void> {
  if (items.length === 0) return
  const { cancel, stop } = everyCallerGone(items)
  try {
    await h.refreshBulkhead.run(cancel, () => {
      // The hard timeout counts from the refresh's turn, not from when it began to wait for one.
      for (const { flight } of items) flight.armTimeouts(job.options.hardTimeout, undefined)
      return refreshHeld(h, items, job)
    })
  } catch {
    // Every flight ended before its turn, or the Store read failed: the stale values stay, and a later read refreshes.
  } finally {
    stop()
  }
}

async function refreshHeld<T>(h: HerdContext, items: ReadonlyArray<{ flight: Flight; current: Entry }>, job: ManyJob<T>): Promise<void> {
  const now = h.clock.now()
  const acquired = await Promise.all(items.map(({ flight }) => h.coordinator.acquire(flight.key, flight.signal, job.options.lock).catch(() => undefined)))
  const toLoad: Item[] = []
  const toCheck: Array<{ item: Item; current: Entry }> = []
  /** Someone refreshed it since `current` was read: take theirs; else load it. */
  const decide = (item: Item, current: Entry, latest: TierRead | undefined): void => {
    if (latest?.kind !== 'entry' || latest.entry.fence <= current.fence) return void toLoad.push(item)
    if (job.options.local) h.local?.offer(item.flight.key, latest.entry, h.clock.now())
    h.coordinator.release(item.held!)
  }
  items.forEach(({ flight, current }, i) => {
    const got = acquired[i]
    if (got === undefined) return
    if (got.kind === 'busy') return h.holdOff.hold(flight.key, Math.min(h.coordinator.leaseMs, 1_000), now)
    if (got.kind === 'solo') return void toLoad.push({ flight, fence: got.fence, held: undefined })
    const item: Item = { flight, fence: got.held.fence, held: got.held }
    if (got.current !== undefined) decide(item, current, got.current)
    else toCheck.push({ item, current })
  })
  const reads = await h.tier.readMany(toCheck.map(({ item }) => item.flight.key))
  toCheck.forEach(({ item, current }, i) => decide(item, current, reads[i]))
  for (let i = 0; i < toLoad.length; i++) h.observer.refreshStarted(job.reason as RefreshReason)
  const started = performance.now()
  const { failed } = await loadInChunks(h, toLoad, job)
  const durationMs = performance.now() - started
  for (const item of toLoad) {
    if (failed.has(item)) h.holdOff.hold(item.flight.key, h.errorBackoffMs, h.clock.now())
    h.observer.refresh(item.flight.key, durationMs, !failed.has(item), job.reason as RefreshReason)
  }
}

/**
 * One batch loader call for `items`, then a fenced write per key. The
 * loader's signal aborts when every key's callers have gone (or its hard
 * timeout fired, or the herd closed); a key whose lease is lost is not
 * written and goes round again. A throw fails only these keys, each served
 * its stale value inside staleIfError if it has one.
 */
async function loadChunk<T>(h: HerdContext, items: readonly Item[], job: ManyJob<T>, lost: Set<Item>, failed: Set<Item>): Promise<void> {
  const keys = items.map((item) => item.flight.key)
  const { cancel: batch, stop: stopListening } = everyCallerGone(items)
  const holdings = items.flatMap((item) => (item.held === undefined ? [] : [h.coordinator.hold(item.held, () => lost.add(item))]))
  const stale = new Map<string, T>()
  for (const { flight } of items) if (flight.hasFallback) stale.set(flight.key, flight.staleValue as T)
  try {
    await h.bulkhead.run(batch, async () => {
      const outcome = await countedLoad(h, keys[0]!, keys, job.reason, batch, () => runBatchLoader(job.loader, keys, batch, stale))
      const values = byKey(outcome.value, keys)
      const options = outcome.overrides === undefined ? job.options : withOverrides(job.options, outcome.overrides)
      await Promise.all(
        items.map(async (item) => {
          if (lost.has(item)) return
          if (!(await writeOne(h, item, values.get(item.flight.key), options, outcome.loadMs))) failed.add(item)
        }),
      )
    })
  } catch (error) {
    const now = h.clock.now()
    for (const item of items) {
      if (lost.has(item)) continue
      failed.add(item)
      if (!item.flight.signal.aborted) h.holdOff.hold(item.flight.key, h.errorBackoffMs, now)
      failOne(item.flight, error)
    }
  } finally {
    for (const holding of holdings) holding.stop()
    stopListening()
    for (const item of items) {
      if (item.held !== undefined && !lost.has(item)) h.coordinator.release(item.held)
    }
  }
}

/** The loader's answer by key: a Map (keys it was not asked for are ignored) or an array aligned with the keys. */
function byKey<T>(answer: ReadonlyMap<string, T> | ReadonlyArray<T>, keys: readonly string[]): ReadonlyMap<string, T | undefined> {
  if (answer instanceof Map) return answer
  if (Array.isArray(answer)) {
    if (answer.length !== keys.length) {
      throw new HerdArgumentError(
        `herd: fetchMany()'s loader returned an array of ${answer.length} for ${keys.length} keys; return one value per key, in order (undefined for "not found"), or a Map`,
      )
    }
    return new Map(keys.map((key, i) => [key, answer[i] as T]))
  }
  throw new HerdArgumentError(`herd: fetchMany()'s loader must return a Map or an array; got ${answer === null ? 'null' : typeof answer}`)
}

/** Encodes and writes one key's value with its own fence, then answers its callers; false when the codec refused it (that key alone fails). */
async function writeOne<T>(h: HerdContext, item: Item, value: T | undefined, options: ResolvedEntryOptions, loadMs: number): Promise<boolean> {
  const { flight } = item
  let encoded: string
  try {
    encoded = h.tier.encode(value)
  } catch (error) {
    flight.fail(error)
    return false
  }
  const now = await commitLoaded(h, flight.key, value, encoded, options, item.fence, item.held, loadMs)
  flight.finish(value, 'miss', now)
  return true
}

function failOne(flight: Flight, error: unknown): void {
  if (error instanceof HerdEncodeError || error instanceof HerdArgumentError || !flight.standIn('error')) flight.fail(error)
}

/** Aborts once every item's flight has: nobody is left to load these keys for. */
function everyCallerGone(items: ReadonlyArray<{ flight: Flight }>): { cancel: Cancel; stop: () => void } {
  return cancelWhenAll(
    items.map(({ flight }) => flight.signal),
    () => new DOMException('every caller of these keys has gone', 'AbortError'),
  )
}
