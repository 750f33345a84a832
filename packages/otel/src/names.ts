/*
 * Every name @herd/otel emits, in one place: the instruments, the span
 * names and the attribute keys. OpenTelemetry has no semantic conventions
 * for caches yet (open-telemetry/semantic-conventions#1747), so, as its
 * naming guide asks of a system-specific library, everything lives under the
 * `herd.` namespace; what does have a convention follows it: durations are
 * histograms in seconds (`s`, like `db.client.operation.duration`), counts
 * use annotation units (`{fetch}`), counters are plural and UpDownCounters
 * are not, failures carry `error.type`, and spans are INTERNAL.
 */

/** Attribute keys. Keys themselves are never a metric attribute (unbounded cardinality): see `keyGroup`. */
export const ATTR = {
  /** The `name` given to instrumentHerd(), on every metric and span (absent when none was given). */
  name: 'herd.name',
  /** What `keyGroup(key)` returned, on metrics and spans of keyed operations. */
  keyGroup: 'herd.key.group',
  /** The key itself: on spans only, and only with `spanKeys: true`. */
  key: 'herd.key',
  fetchStatus: 'herd.fetch.status',
  tier: 'herd.tier',
  loadReason: 'herd.load.reason',
  loadBackground: 'herd.load.background',
  lockOutcome: 'herd.lock.outcome',
  writeKind: 'herd.write.kind',
  writeOutcome: 'herd.write.outcome',
  breakerState: 'herd.breaker.state',
  busDirection: 'herd.bus.direction',
  busKind: 'herd.bus.kind',
  /** OpenTelemetry's general attribute for a failed operation: the error's class name (`_OTHER` when it has none). */
  errorType: 'error.type',
} as const

export type InstrumentKind = 'counter' | 'histogram' | 'updowncounter'

export interface MetricDefinition {
  /** The OpenTelemetry instrument name. */
  name: string
  kind: InstrumentKind
  unit: string
  description: string
  /** Attributes it may carry, besides `herd.name` and (for keyed operations) `herd.key.group`. */
  attributes: readonly string[]
}

/** Bucket boundaries in seconds: from a local wake (sub-millisecond) to a slow loader (10 s). */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export const METRICS = {
  fetches: {
    name: 'herd.fetches',
    kind: 'counter',
    unit: '{fetch}',
    description:
      'fetch() and fetchEntry() calls, by how each was answered: hit, stale, miss, or coalesced (joined work already under way in this process)',
    attributes: [ATTR.fetchStatus, ATTR.tier, ATTR.errorType],
  },
  loadDuration: {
    name: 'herd.load.duration',
    kind: 'histogram',
    unit: 's',
    description: 'How long each loader run took; its count is the number of loads. Reason `miss` has callers waiting, the others are background refreshes',
    attributes: [ATTR.loadReason, ATTR.errorType],
  },
  lockAcquires: {
    name: 'herd.lock.acquires',
    kind: 'counter',
    unit: '{acquire}',
    description: 'Attempts to become the fleet-wide loader of a key: lease (won), busy (another process holds it), solo (no Lock, or unreachable)',
    attributes: [ATTR.lockOutcome, ATTR.errorType],
  },
  lockWaitDuration: {
    name: 'herd.lock.wait.duration',
    kind: 'histogram',
    unit: 's',
    description: "How long this process waited for another process's load of a key; `released` waits end when the value lands (wake latency included)",
    attributes: [ATTR.lockOutcome, ATTR.errorType],
  },
  writes: {
    name: 'herd.writes',
    kind: 'counter',
    unit: '{write}',
    description: 'Writes of an entry: written to the shared tier, fenced-out (refused there for an older fence), or local-only',
    attributes: [ATTR.writeKind, ATTR.writeOutcome, ATTR.errorType],
  },
  breakerTransitions: {
    name: 'herd.breaker.transitions',
    kind: 'counter',
    unit: '{transition}',
    description: 'Changes of the circuit breaker around the Store and Lock, by the state entered',
    attributes: [ATTR.breakerState],
  },
  busMessages: {
    name: 'herd.bus.messages',
    kind: 'counter',
    unit: '{message}',
    description: 'Invalidations this herd published to, or received from, the other processes',
    attributes: [ATTR.busDirection, ATTR.busKind],
  },
  breakerState: {
    name: 'herd.breaker.state',
    kind: 'updowncounter',
    unit: '{herd}',
    description: 'Herds whose circuit breaker is in each state (1 for the current state of one herd, 0 for the others)',
    attributes: [ATTR.breakerState],
  },
  localEntries: {
    name: 'herd.local.entry.count',
    kind: 'updowncounter',
    unit: '{entry}',
    description: "Entries held by this process's local (in-memory) tier",
    attributes: [],
  },
  localBytes: {
    name: 'herd.local.size',
    kind: 'updowncounter',
    unit: 'By',
    description:
      "Bytes held by this process's local tier (encoded values at two bytes a character, plus a fixed overhead per entry: the estimate local.maxBytes bounds)",
    attributes: [],
  },
  refreshesWaiting: {
    name: 'herd.refresh.waiting',
    kind: 'updowncounter',
    unit: '{refresh}',
    description:
      'Background refreshes waiting for a turn in this process (maxConcurrentRefreshes run at once; the rest wait, their stale values served meanwhile)',
    attributes: [],
  },
} as const satisfies Record<string, MetricDefinition>

export const HISTOGRAM_BUCKETS: readonly number[] = DURATION_BUCKETS

export const SPANS = {
  load: 'herd.load',
  lockWait: 'herd.lock.wait',
  fetch: 'herd.fetch',
} as const

/** The instrumentation scope: the meter's and the tracer's name. */
export const SCOPE = '@herd/otel'
