import { type Herd, HerdArgumentError } from '@herd/core'
import { metrics, trace } from '@opentelemetry/api'
import { AttributeBase } from './attributes.js'
import { type Sink, attach, isAttached } from './dispatcher.js'
import { instrumentsOf } from './instruments.js'
import { MetricsSink } from './metrics-sink.js'
import { SCOPE } from './names.js'
import { observe } from './observed.js'
import { type InstrumentHerdOptions, resolveOptions } from './options.js'
import { SpansSink } from './spans-sink.js'
import { Tally } from './tally.js'

/** What instrumentHerd() needs of a herd: its id (in every diagnostics context) and its stats (for the gauges). */
export type InstrumentableHerd = Pick<Herd, 'id' | 'stats'>

export interface HerdInstrumentation {
  /** Stops recording this herd: unsubscribes from the channels (when it was the last herd instrumented), removes its gauges, ends its open spans. Safe to call twice. */
  stop(): void
}

/**
 * Records `herd`'s metrics and spans with OpenTelemetry, from core's
 * diagnostics channels (`herd:fetch`, `herd:load`, `herd:lock`, `herd:write`,
 * `herd:breaker`, `herd:bus`) and its stats(). Herds that are not
 * instrumented are not recorded; while no herd is, nothing subscribes and
 * core publishes nothing.
 */
export function instrumentHerd(herd: InstrumentableHerd, options?: InstrumentHerdOptions): HerdInstrumentation {
  if (herd === null || typeof herd !== 'object' || typeof herd.id !== 'string' || typeof herd.stats !== 'function') {
    throw new HerdArgumentError('instrumentHerd(): pass the herd createHerd() returned')
  }
  const o = resolveOptions(options)
  if (isAttached(herd.id)) throw new HerdArgumentError('instrumentHerd(): this herd is already instrumented; stop() that instrumentation first')
  const attributes = new AttributeBase(o)
  const sinks: Sink[] = []
  let stopObserving: (() => void) | undefined
  if (o.metrics) {
    const meter = (o.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE)
    const instruments = instrumentsOf(meter)
    const fetches = new Tally()
    sinks.push(new MetricsSink(instruments, attributes, fetches))
    stopObserving = observe(meter, instruments, { stats: () => herd.stats(), attributes: attributes.plain({}), fetches })
  }
  if (o.spans || o.fetchSpans) {
    const tracer = (o.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE)
    sinks.push(new SpansSink(tracer, attributes, { keys: o.spanKeys, fetches: o.fetchSpans, loadsAndWaits: o.spans }))
  }
  const detach = sinks.length === 0 ? undefined : attach(herd.id, sinks.length === 1 ? sinks[0]! : both(sinks))
  return {
    stop() {
      detach?.()
      stopObserving?.()
      stopObserving = undefined
    },
  }
}

function both(sinks: readonly Sink[]): Sink {
  return {
    start: (name, context) => sinks.forEach((sink) => sink.start(name, context)),
    finish: (name, context) => sinks.forEach((sink) => sink.finish(name, context)),
    breaker: (message) => sinks.forEach((sink) => sink.breaker(message)),
    bus: (message) => sinks.forEach((sink) => sink.bus(message)),
    close: () => sinks.forEach((sink) => sink.close()),
  }
}
