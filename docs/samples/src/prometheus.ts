// Not a sample: the file docs/observability.md shows above observability-route.ts, @herd/otel's own example.
export { prometheusMetrics } from '../../../packages/otel/examples/prometheus.js'
