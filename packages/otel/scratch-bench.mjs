import { createHerd } from '@herd/core'
import { instrumentHerd } from './dist/index.js'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base'

class Reader extends MetricReader { async onForceFlush() {} async onShutdown() {} }
const meterProvider = new MeterProvider({ readers: [new Reader()] })
const tracerProvider = new BasicTracerProvider()
const N = 300_000
async function hits(herd) {
  await herd.fetch('k', async () => 1)
  const t0 = performance.now()
  for (let i = 0; i < N; i++) await herd.fetch('k', async () => 1)
  return ((performance.now() - t0) * 1e6) / N // ns per hit
}
const rounds = { plain: [], otherInstrumented: [], spansOnly: [], instrumented: [] }
for (let r = 0; r < 5; r++) {
  const a = createHerd({ ttl: '1h' })
  rounds.plain.push(await hits(a))
  const b = createHerd({ ttl: '1h' })
  const i = instrumentHerd(b, { meterProvider, tracerProvider })
  rounds.otherInstrumented.push(await hits(a))
  rounds.instrumented.push(await hits(b))
  i.stop()
  const c = createHerd({ ttl: '1h' })
  const j = instrumentHerd(c, { tracerProvider, metrics: false })
  rounds.spansOnly.push(await hits(c))
  j.stop(); await c.close()
  await a.close(); await b.close()
}
const median = (xs) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]
for (const [k, v] of Object.entries(rounds)) console.log(k.padEnd(20), median(v).toFixed(0), 'ns/hit', v.map((x) => x.toFixed(0)).join(' '))
