import { type Herd, type HerdOptions, type Store, createHerd } from '@herd/core'
import { afterEach } from 'vitest'
import { type HerdInstrumentation, type InstrumentHerdOptions, instrumentHerd } from '../../src/index.js'
import { Telemetry } from './telemetry.js'

const herds: Herd[] = []
const instrumentations: HerdInstrumentation[] = []
const telemetries: Telemetry[] = []

/** A herd closed after the test. */
export function herd(options?: HerdOptions): Herd {
  const created = createHerd(options)
  herds.push(created)
  return created
}

/** instrumentHerd(), stopped after the test. */
export function instrument(target: Herd, options?: InstrumentHerdOptions): HerdInstrumentation {
  const instrumentation = instrumentHerd(target, options)
  instrumentations.push(instrumentation)
  return instrumentation
}

/** A fresh SDK with in-memory exporters, shut down after the test. */
export function telemetry(): Telemetry {
  const created = new Telemetry()
  telemetries.push(created)
  return created
}

/** Both providers of `t`, as instrumentHerd() options. */
export const providers = (t: Telemetry) => ({ meterProvider: t.meterProvider, tracerProvider: t.tracerProvider })

afterEach(async () => {
  for (const instrumentation of instrumentations.splice(0)) instrumentation.stop()
  await Promise.all(herds.splice(0).map((h) => h.close()))
  await Promise.all(telemetries.splice(0).map((t) => t.shutdown()))
})

/** A Store that is down: every call throws, as a Redis that can't be reached would. */
export function downStore(): Store {
  const down = async (): Promise<never> => {
    throw new Error('store unreachable')
  }
  return { get: down, set: down, delete: down, expire: down }
}
