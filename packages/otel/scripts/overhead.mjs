// What instrumentation costs a cache hit, the hot path: median ns per local
// hit over 5 rounds of 300,000, for a plain herd, a herd that is not
// instrumented while another one in the process is, a herd with spans only,
// and a fully instrumented herd. Run after `pnpm build`:
//   pnpm --filter @herd/otel overhead
// Timings depend on the machine and its load (printed): compare the rows.
import { loadavg } from 'node:os'
import { createHerd } from '@herd/core'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base'
import { instrumentHerd } from '../dist/index.js'

class ManualReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}
const meterProvider = new MeterProvider({ readers: [new ManualReader()] })
const tracerProvider = new BasicTracerProvider()
const HITS = 300_000
const ROUNDS = 5

/** ns per fetch of a key already in the local tier. */
async function hits(herd) {
  await herd.fetch('k', async () => 1)
  const started = performance.now()
  for (let i = 0; i < HITS; i++) await herd.fetch('k', async () => 1)
  return ((performance.now() - started) * 1e6) / HITS
}

const rows = { 'plain herd': [], 'another herd instrumented': [], 'spans only': [], instrumented: [] }
console.log(`load average before: ${loadavg()[0].toFixed(1)}`)
for (let round = 0; round < ROUNDS; round++) {
  const plain = createHerd({ ttl: '1h' })
  rows['plain herd'].push(await hits(plain))
  const watched = createHerd({ ttl: '1h' })
  const full = instrumentHerd(watched, { meterProvider, tracerProvider })
  rows['another herd instrumented'].push(await hits(plain))
  rows.instrumented.push(await hits(watched))
  full.stop()
  const traced = createHerd({ ttl: '1h' })
  const spans = instrumentHerd(traced, { tracerProvider, metrics: false })
  rows['spans only'].push(await hits(traced))
  spans.stop()
  await Promise.all([plain.close(), watched.close(), traced.close()])
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
for (const [name, values] of Object.entries(rows))
  console.log(`${name.padEnd(26)} ${median(values).toFixed(0).padStart(6)} ns/hit   rounds: ${values.map((v) => v.toFixed(0)).join(' ')}`)
console.log(`load average after: ${loadavg()[0].toFixed(1)}`)
