import { buildEntry } from '../policies/freshness.js'
import { type HeldLease, LeaseLostError } from '../ports/coordinator.js'
import type { Fence } from '../ports/fence.js'
import { withOverrides } from '../options.js'
import { commit } from './commit.js'
import type { HerdContext } from './context.js'
import type { LoadJob, Loaded } from './job.js'
import { type LoadOutcome, runLoader } from './run-loader.js'

/**
 * Runs the loader once, under the bulkhead and, with a lease, renewing it
 * while it runs (the loader's signal aborts if the Lock says the lease is
 * gone), then writes what it returned with `fence`.
 *
 * The loader gets a signal of its own for this attempt, fed by the flight's:
 * no AbortSignal.any, whose composite signals stayed reachable (about 1.7 KB
 * a load) from loaders that never removed their listener.
 */
export async function loadAndWrite<T>(h: HerdContext, job: LoadJob<T>, fence: Fence, held?: HeldLease): Promise<Loaded<T>> {
  const { key } = job
  const attempt = new AbortController()
  const forward = (): void => attempt.abort(job.signal.reason)
  if (job.signal.aborted) forward()
  else job.signal.addEventListener('abort', forward, { once: true })
  const holding = held === undefined ? undefined : h.coordinator.hold(held, () => attempt.abort(new LeaseLostError(key)))
  let freeSlot: (() => void) | undefined
  try {
    freeSlot = await h.bulkhead.acquire(attempt.signal)
    const outcome = await runCounted(h, job, attempt.signal)
    return await write(h, job, outcome, fence, held)
  } finally {
    freeSlot?.()
    holding?.stop()
    job.signal.removeEventListener('abort', forward)
  }
}

function runCounted<T>(h: HerdContext, job: LoadJob<T>, signal: AbortSignal): Promise<LoadOutcome<T>> {
  const background = job.reason !== 'miss'
  return h.observer.traceLoad(job.key, job.reason, async (context) => {
    const started = performance.now()
    try {
      const outcome = await runLoader(job.loader, job.key, signal, job.stale)
      h.observer.load(job.key, outcome.loadMs, true, background)
      if (context !== undefined) Object.assign(context, { durationMs: outcome.loadMs, ok: true })
      return outcome
    } catch (error) {
      const durationMs = performance.now() - started
      h.observer.load(job.key, durationMs, false, background)
      if (context !== undefined) Object.assign(context, { durationMs, ok: false })
      if (!(error instanceof LeaseLostError) && !signal.aborted) h.observer.error(job.key, 'loader', error)
      throw error
    }
  })
}

async function write<T>(h: HerdContext, job: LoadJob<T>, outcome: LoadOutcome<T>, fence: Fence, held: HeldLease | undefined): Promise<Loaded<T>> {
  const encoded = h.tier.encode(outcome.value)
  const options = outcome.overrides === undefined ? job.options : withOverrides(job.options, outcome.overrides)
  const now = h.clock.now()
  // The callers of this load get the loader's own value; every later read, from either tier, gets the codec's round trip.
  const entry = buildEntry(h.tier.roundTrip(encoded, outcome.value), options, fence.value, now, outcome.loadMs)
  if (entry !== undefined) entry.size = encoded.length
  // ttl 0 ("return it, don't cache it"): nothing to write; the lease is given back by the fill.
  if (entry !== undefined)
    await commit(h, { key: job.key, entry, encoded, fence, held, kind: 'load', now, keepUntil: entry.errorUntil, local: options.local, bus: options.bus })
  return { value: outcome.value, createdAt: now }
}
