import { type HeldLease, LeaseLostError } from '../ports/coordinator.js'
import type { Fence } from '../ports/fence.js'
import { withOverrides } from '../options.js'
import { Cancel } from './cancel.js'
import { commitLoaded } from './commit.js'
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
 * a load) from loaders that never removed their listener. It is a Cancel
 * (cancel.ts): an AbortSignal is made only if the loader reads `ctx.signal`.
 */
export async function loadAndWrite<T>(h: HerdContext, job: LoadJob<T>, fence: Fence | 'next', held?: HeldLease): Promise<Loaded<T>> {
  const { key } = job
  const attempt = new Cancel()
  if (job.signal.aborted) attempt.abort(job.signal.reason)
  const stopForwarding = job.signal.onAbort((reason) => attempt.abort(reason))
  const holding = held === undefined ? undefined : h.coordinator.hold(held, () => attempt.abort(new LeaseLostError(key)))
  try {
    return await h.bulkhead.run(attempt, async () => {
      const outcome = await countedLoad(h, job.key, undefined, job.reason, attempt, () => runLoader(job.loader, job.key, attempt, job.stale))
      return write(h, job, outcome, fence, held)
    })
  } finally {
    holding?.stop()
    stopForwarding()
  }
}

/**
 * Runs a loader (one key's, or a batch loader for `keys`) inside the
 * herd:load trace, counting it as a load (and its error, unless the load was
 * aborted or lost its lease) whatever it comes to.
 */
export function countedLoad<V>(
  h: HerdContext,
  key: string,
  keys: readonly string[] | undefined,
  reason: LoadJob['reason'],
  signal: Cancel,
  run: () => Promise<LoadOutcome<V>>,
): Promise<LoadOutcome<V>> {
  const background = reason !== 'miss'
  const loaded = keys ?? key
  return h.observer.traceLoad(
    key,
    reason,
    async (context) => {
      const started = performance.now()
      try {
        const outcome = await run()
        h.observer.load(loaded, outcome.loadMs, true, background)
        if (context !== undefined) Object.assign(context, { durationMs: outcome.loadMs, ok: true })
        return outcome
      } catch (error) {
        const durationMs = performance.now() - started
        h.observer.load(loaded, durationMs, false, background)
        if (context !== undefined) Object.assign(context, { durationMs, ok: false })
        if (!(error instanceof LeaseLostError) && !signal.aborted) h.observer.error(key, 'loader', error)
        throw error
      }
    },
    keys,
  )
}

async function write<T>(h: HerdContext, job: LoadJob<T>, outcome: LoadOutcome<T>, fence: Fence | 'next', held: HeldLease | undefined): Promise<Loaded<T>> {
  const encoded = h.tier.encode(outcome.value)
  const options = outcome.overrides === undefined ? job.options : withOverrides(job.options, outcome.overrides)
  const createdAt = await commitLoaded(h, job.key, outcome.value, encoded, options, fence, held, outcome.loadMs)
  return { value: outcome.value, createdAt }
}
