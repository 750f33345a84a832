export { instrumentHerd, type HerdInstrumentation, type InstrumentableHerd } from './instrument.js'
export type { InstrumentHerdOptions } from './options.js'
export { ATTR, METRICS, SPANS, SCOPE, HISTOGRAM_BUCKETS, type MetricDefinition, type InstrumentKind } from './names.js'
