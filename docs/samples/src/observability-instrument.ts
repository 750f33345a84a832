import { instrumentHerd } from '@herd/otel'

// After your OpenTelemetry SDK is set up (NodeSDK, or a MeterProvider and a TracerProvider):
const telemetry = instrumentHerd(herd, { name: 'users' })
// …
telemetry.stop() // unsubscribes and removes the gauges; herd.close() does not need it
