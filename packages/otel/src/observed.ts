import type { BreakerState, HerdStats } from '@herd/core'
import { type Attributes, type BatchObservableResult, type Meter, diag } from '@opentelemetry/api'
import type { Instruments } from './instruments.js'
import { ATTR } from './names.js'

/** What the gauges read from one instrumented herd at each collection. */
export interface ObservedHerd {
  stats(): HerdStats
  /** `herd.name`, when it has one. */
  attributes: Attributes
}

const STATES: readonly BreakerState[] = ['closed', 'open', 'half-open']

/**
 * The gauges (breaker state, local tier size) come from `herd.stats()` when
 * the SDK collects, not from events. One batch callback per meter reads
 * every herd instrumented on it and adds up herds with the same attributes
 * (two unnamed herds: entries summed, breaker state counted per state), so
 * no series is observed twice.
 */
class Gauges {
  readonly herds = new Set<ObservedHerd>()
  readonly callback = (result: BatchObservableResult) => this.observe(result)

  constructor(private readonly instruments: Instruments) {}

  private observe(result: BatchObservableResult): void {
    const entries = new Map<string, { attributes: Attributes; value: number }>()
    const states = new Map<string, { attributes: Attributes; value: number }>()
    for (const herd of this.herds) {
      let stats: HerdStats
      try {
        stats = herd.stats()
      } catch (error) {
        diag.error('@herd/otel: herd.stats() failed', error)
        continue
      }
      add(entries, herd.attributes, stats.local.size)
      for (const state of STATES) add(states, { ...herd.attributes, [ATTR.breakerState]: state }, stats.breaker.state === state ? 1 : 0)
    }
    for (const { attributes, value } of entries.values()) result.observe(this.instruments.localEntries, value, attributes)
    for (const { attributes, value } of states.values()) result.observe(this.instruments.breakerState, value, attributes)
  }
}

function add(into: Map<string, { attributes: Attributes; value: number }>, attributes: Attributes, value: number): void {
  const id = JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1)))
  const held = into.get(id)
  if (held === undefined) into.set(id, { attributes, value })
  else held.value += value
}

const byMeter = new WeakMap<Meter, Gauges>()

/** Observes `herd` on `meter`'s gauges until the returned function is called. */
export function observe(meter: Meter, instruments: Instruments, herd: ObservedHerd): () => void {
  let gauges = byMeter.get(meter)
  if (gauges === undefined) byMeter.set(meter, (gauges = new Gauges(instruments)))
  if (gauges.herds.size === 0) meter.addBatchObservableCallback(gauges.callback, [instruments.breakerState, instruments.localEntries])
  gauges.herds.add(herd)
  const held = gauges
  return () => {
    if (!held.herds.delete(herd)) return
    if (held.herds.size === 0) meter.removeBatchObservableCallback(held.callback, [instruments.breakerState, instruments.localEntries])
  }
}
