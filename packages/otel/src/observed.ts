import type { BreakerState, HerdStats } from '@herd/core'
import { type Attributes, type BatchObservableResult, type Meter, diag } from '@opentelemetry/api'
import type { Instruments } from './instruments.js'
import { ATTR } from './names.js'
import { type Count, type Tally, addTo } from './tally.js'

/** What is read from one instrumented herd when the SDK collects. */
export interface ObservedHerd {
  stats(): HerdStats
  /** `herd.name`, when it has one. */
  attributes: Attributes
  /** Its fetches, counted in process (see Tally). */
  fetches: Tally
}

const STATES: readonly BreakerState[] = ['closed', 'open', 'half-open']

/**
 * The instruments read at collection rather than recorded per event: the
 * gauges (breaker state, local tier size, from `herd.stats()`) and the
 * fetch counter (from each herd's tally). One batch callback per meter
 * reads every herd instrumented on it and adds up herds with the same
 * attributes (two unnamed herds: entries and fetches summed, breaker state
 * counted per state), so no series is observed twice. The fetches of a herd
 * whose instrumentation stopped stay in the totals, as a synchronous
 * counter's would: a cumulative counter never goes down.
 */
class Observed {
  readonly herds = new Set<ObservedHerd>()
  readonly retired = new Map<string, Count>()
  readonly callback = (result: BatchObservableResult) => this.observe(result)
  readonly observables

  constructor(private readonly instruments: Instruments) {
    this.observables = [instruments.fetches, instruments.breakerState, instruments.localEntries, instruments.localBytes, instruments.refreshesWaiting]
  }

  retire(herd: ObservedHerd): void {
    this.herds.delete(herd)
    for (const { attributes, value } of herd.fetches.values()) addTo(this.retired, attributes, value)
  }

  private observe(result: BatchObservableResult): void {
    const fetches = new Map<string, Count>()
    for (const { attributes, value } of this.retired.values()) addTo(fetches, attributes, value)
    const entries = new Map<string, Count>()
    const bytes = new Map<string, Count>()
    const states = new Map<string, Count>()
    const waiting = new Map<string, Count>()
    for (const herd of this.herds) {
      for (const { attributes, value } of herd.fetches.values()) addTo(fetches, attributes, value)
      let stats: HerdStats
      try {
        stats = herd.stats()
      } catch (error) {
        diag.error('@herd/otel: herd.stats() failed', error)
        continue
      }
      addTo(entries, herd.attributes, stats.local.size)
      addTo(bytes, herd.attributes, stats.local.bytes)
      addTo(waiting, herd.attributes, stats.refreshQueue.waiting)
      for (const state of STATES) addTo(states, { ...herd.attributes, [ATTR.breakerState]: state }, stats.breaker.state === state ? 1 : 0)
    }
    for (const { attributes, value } of fetches.values()) result.observe(this.instruments.fetches, value, attributes)
    for (const { attributes, value } of entries.values()) result.observe(this.instruments.localEntries, value, attributes)
    for (const { attributes, value } of bytes.values()) result.observe(this.instruments.localBytes, value, attributes)
    for (const { attributes, value } of states.values()) result.observe(this.instruments.breakerState, value, attributes)
    for (const { attributes, value } of waiting.values()) result.observe(this.instruments.refreshesWaiting, value, attributes)
  }
}

const byMeter = new WeakMap<Meter, Observed>()

/** Reads `herd` at each collection on `meter` until the returned function is called. */
export function observe(meter: Meter, instruments: Instruments, herd: ObservedHerd): () => void {
  let observed = byMeter.get(meter)
  if (observed === undefined) byMeter.set(meter, (observed = new Observed(instruments)))
  if (observed.herds.size === 0 && observed.retired.size === 0) meter.addBatchObservableCallback(observed.callback, observed.observables)
  observed.herds.add(herd)
  const held = observed
  return () => {
    if (!held.herds.has(herd)) return
    held.retire(herd)
    // Nothing left to report: no callback left behind either.
    if (held.herds.size === 0 && held.retired.size === 0) meter.removeBatchObservableCallback(held.callback, held.observables)
  }
}
