import type { Attributes } from '@opentelemetry/api'
import {
  AggregationTemporality,
  DataPointType,
  type HistogramMetricData,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  MetricReader,
} from '@opentelemetry/sdk-metrics'
import { vi } from 'vitest'
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'

export interface Point {
  attributes: Attributes
  /** Counters and gauges: the value. Histograms: the count. */
  value: number
  /** Histograms only. */
  sum?: number
  boundaries?: number[]
}

export interface Collected {
  /** Every metric of the last collection, by instrument name. */
  byName: Map<string, MetricData>
  /** The data points of `name` ([] when it was not emitted). */
  points(name: string): Point[]
  /** The one point of `name` whose attributes include `match` (throws when there are none or several). */
  point(name: string, match: Attributes): Point
}

/**
 * Collects when the test asks and hands the result to the SDK's in-memory
 * exporter. (The PeriodicExportingMetricReader races each export against a
 * timer of its own, which a test's fake clock would have to move.)
 */
class OnDemandReader extends MetricReader {
  constructor(private readonly exporter: InMemoryMetricExporter) {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }

  async exportNow(): Promise<void> {
    const { resourceMetrics, errors } = await this.collect()
    if (errors.length > 0) throw errors[0]
    const exported = new Promise<void>((resolve, reject) =>
      this.exporter.export(resourceMetrics, (result) =>
        result.code === 0 /* ExportResultCode.SUCCESS */ ? resolve() : reject(result.error ?? new Error('export failed')),
      ),
    )
    // The in-memory exporter answers on a 0 ms timer: under a test's fake clock, run it.
    if (vi.isFakeTimers()) await vi.advanceTimersByTimeAsync(0)
    await exported
  }

  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/**
 * The OpenTelemetry SDK with in-memory exporters, as a test sees it: a
 * MeterProvider whose metrics `collect()` exports on demand (cumulative),
 * and a TracerProvider whose finished spans `spans()` lists.
 */
export class Telemetry {
  private readonly metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  private readonly reader = new OnDemandReader(this.metricExporter)
  private readonly spanExporter = new InMemorySpanExporter()
  readonly meterProvider = new MeterProvider({ readers: [this.reader] })
  readonly tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(this.spanExporter)] })

  async collect(): Promise<Collected> {
    this.metricExporter.reset()
    await this.reader.exportNow()
    const byName = new Map<string, MetricData>()
    for (const resource of this.metricExporter.getMetrics()) {
      for (const scope of resource.scopeMetrics) for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric)
    }
    const points = (name: string): Point[] => {
      const metric = byName.get(name)
      if (metric === undefined) return []
      if (metric.dataPointType === DataPointType.HISTOGRAM) {
        return (metric as HistogramMetricData).dataPoints.map((p) => ({
          attributes: p.attributes,
          value: p.value.count,
          sum: p.value.sum,
          boundaries: p.value.buckets.boundaries,
        }))
      }
      return metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value as number }))
    }
    return {
      byName,
      points,
      point(name, match) {
        const found = points(name).filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
        if (found.length !== 1) throw new Error(`${found.length} points of ${name} match ${JSON.stringify(match)}: ${JSON.stringify(points(name))}`)
        return found[0]!
      },
    }
  }

  spans(name?: string): ReadableSpan[] {
    const spans = this.spanExporter.getFinishedSpans()
    return name === undefined ? spans : spans.filter((s) => s.name === name)
  }

  async shutdown(): Promise<void> {
    await Promise.all([this.meterProvider.shutdown(), this.tracerProvider.shutdown()])
  }
}
