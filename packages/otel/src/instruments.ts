import type { Counter, Histogram, Meter, ObservableCounter, ObservableUpDownCounter } from '@opentelemetry/api'
import { HISTOGRAM_BUCKETS, METRICS, type MetricDefinition } from './names.js'

export interface Instruments {
  /** Observable: counted in process by a Tally, read at collection. */
  fetches: ObservableCounter
  loadDuration: Histogram
  lockAcquires: Counter
  lockWaitDuration: Histogram
  writes: Counter
  breakerTransitions: Counter
  busMessages: Counter
  breakerState: ObservableUpDownCounter
  localEntries: ObservableUpDownCounter
  localBytes: ObservableUpDownCounter
  refreshesWaiting: ObservableUpDownCounter
}

// One set per Meter: every herd instrumented on a meter records into the same instruments.
const byMeter = new WeakMap<Meter, Instruments>()

export function instrumentsOf(meter: Meter): Instruments {
  let instruments = byMeter.get(meter)
  if (instruments === undefined) byMeter.set(meter, (instruments = create(meter)))
  return instruments
}

function create(meter: Meter): Instruments {
  const counter = (m: MetricDefinition) => meter.createCounter(m.name, { unit: m.unit, description: m.description })
  const histogram = (m: MetricDefinition) =>
    meter.createHistogram(m.name, { unit: m.unit, description: m.description, advice: { explicitBucketBoundaries: [...HISTOGRAM_BUCKETS] } })
  const gauge = (m: MetricDefinition) => meter.createObservableUpDownCounter(m.name, { unit: m.unit, description: m.description })
  return {
    fetches: meter.createObservableCounter(METRICS.fetches.name, { unit: METRICS.fetches.unit, description: METRICS.fetches.description }),
    loadDuration: histogram(METRICS.loadDuration),
    lockAcquires: counter(METRICS.lockAcquires),
    lockWaitDuration: histogram(METRICS.lockWaitDuration),
    writes: counter(METRICS.writes),
    breakerTransitions: counter(METRICS.breakerTransitions),
    busMessages: counter(METRICS.busMessages),
    breakerState: gauge(METRICS.breakerState),
    localEntries: gauge(METRICS.localEntries),
    localBytes: gauge(METRICS.localBytes),
    refreshesWaiting: gauge(METRICS.refreshesWaiting),
  }
}
