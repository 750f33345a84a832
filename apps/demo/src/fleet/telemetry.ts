import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Herd } from '@herd/core'
import { ATTR, METRICS, instrumentHerd } from '@herd/otel'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { DataPointType, type MetricData, MeterProvider } from '@opentelemetry/sdk-metrics'

/** What the dashboard graphs of herd, counted by @herd/otel since the process started. */
export interface HerdCounts {
  /** herd.fetch calls by how they were answered. */
  hit: number
  stale: number
  coalesced: number
  miss: number
  /** Loader runs that callers waited for, and background refreshes. */
  loads: number
  refreshes: number
  /** Waits for another process's load of the same key. */
  lockWaits: number
  /** Writes refused for an older fence. */
  fencedOut: number
}

export const NO_COUNTS: HerdCounts = { hit: 0, stale: 0, coalesced: 0, miss: 0, loads: 0, refreshes: 0, lockWaits: 0, fencedOut: 0 }

/**
 * The demo is @herd/otel's first user: its herd is instrumented like any
 * service's, the same metrics are served to Prometheus at `GET /metrics`
 * (the Grafana dashboard in packages/otel/grafana works on them), and the
 * live charts read their counts from the same reader.
 */
export class HerdTelemetry {
  private readonly exporter = new PrometheusExporter({ preventServerStart: true })
  private readonly meterProvider = new MeterProvider({ readers: [this.exporter] })
  private readonly instrumentation

  constructor(herd: Herd) {
    // Keys are `leaderboard`, `product:7`, `http:/api/users/7`: the part before the colon is a bounded label.
    this.instrumentation = instrumentHerd(herd, { name: 'demo', meterProvider: this.meterProvider, keyGroup: (key) => key.split(':')[0] })
  }

  /** `GET /metrics`, in Prometheus' text format: this process's herd. */
  serve(request: IncomingMessage, response: ServerResponse): void {
    this.exporter.getMetricsRequestHandler(request, response)
  }

  /** The counts since start, read from the SDK (cumulative, as Prometheus would scrape them). */
  async counts(): Promise<HerdCounts> {
    const { resourceMetrics } = await this.exporter.collect()
    const counts = { ...NO_COUNTS }
    for (const scope of resourceMetrics.scopeMetrics) for (const metric of scope.metrics) add(counts, metric)
    return counts
  }

  async close(): Promise<void> {
    this.instrumentation.stop()
    await this.meterProvider.shutdown()
  }
}

function add(counts: HerdCounts, metric: MetricData): void {
  switch (metric.descriptor.name) {
    case METRICS.fetches.name:
      for (const point of metric.dataPoints) {
        const status = point.attributes[ATTR.fetchStatus] as keyof HerdCounts | undefined
        if (status !== undefined && status in counts) counts[status] += point.value as number
      }
      return
    case METRICS.loadDuration.name:
      if (metric.dataPointType !== DataPointType.HISTOGRAM) return
      for (const point of metric.dataPoints) {
        if (point.attributes[ATTR.loadReason] === 'miss') counts.loads += point.value.count
        else counts.refreshes += point.value.count
      }
      return
    case METRICS.lockWaitDuration.name:
      if (metric.dataPointType !== DataPointType.HISTOGRAM) return
      for (const point of metric.dataPoints) counts.lockWaits += point.value.count
      return
    case METRICS.writes.name:
      for (const point of metric.dataPoints) if (point.attributes[ATTR.writeOutcome] === 'fenced-out') counts.fencedOut += point.value as number
  }
}

/** `now - before`, field by field: what happened in one interval. */
export function since(now: HerdCounts, before: HerdCounts): HerdCounts {
  const out = { ...NO_COUNTS }
  for (const key of Object.keys(out) as Array<keyof HerdCounts>) out[key] = now[key] - before[key]
  return out
}
