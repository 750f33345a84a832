import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Herd } from '@herd/core'
import { instrumentHerd } from '@herd/otel'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { MeterProvider } from '@opentelemetry/sdk-metrics'

/**
 * herd's metrics in Prometheus' text format, for a `GET /metrics` route of
 * the app's own HTTP server (Prometheus scrapes it; Grafana graphs it).
 */
export function prometheusMetrics(herd: Herd, name: string) {
  // A metric reader that renders the current values on each scrape. It can
  // also listen on a port of its own (9464 by default): drop preventServerStart.
  const exporter = new PrometheusExporter({ preventServerStart: true })
  const meterProvider = new MeterProvider({ readers: [exporter] })
  const instrumentation = instrumentHerd(herd, {
    name, // herd_name="users" on every series
    meterProvider,
    keyGroup: (key) => key.split(':')[0], // herd_key_group="user" for user:42
  })
  return {
    /** The `GET /metrics` handler: `app.get('/metrics', metrics.handler)` in Express. */
    handler(request: IncomingMessage, response: ServerResponse): void {
      exporter.getMetricsRequestHandler(request, response)
    },
    async close(): Promise<void> {
      instrumentation.stop()
      await meterProvider.shutdown()
    },
  }
}
