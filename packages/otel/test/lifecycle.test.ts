import { channel, tracingChannel } from 'node:diagnostics_channel'
import { HerdArgumentError } from '@herd/core'
import { describe, expect, it } from 'vitest'
import { instrumentHerd } from '../src/index.js'
import { ATTR, METRICS } from '../src/names.js'
import { settle, slowLoader, useFakeClock } from './support/clock.js'
import { herd, instrument, providers, telemetry } from './support/herds.js'

useFakeClock()

const TRACING = ['herd:fetch', 'herd:load', 'herd:lock', 'herd:write']
const subscribed = () => ({
  tracing: TRACING.map((name) => tracingChannel(name).hasSubscribers),
  plain: ['herd:breaker', 'herd:bus'].map((name) => channel(name).hasSubscribers),
})
const NONE = { tracing: [false, false, false, false], plain: [false, false] }
const ALL = { tracing: [true, true, true, true], plain: [true, true] }

describe('instrumentHerd() lifecycle', () => {
  it('subscribes while a herd is instrumented and unsubscribes everything when the last one stops', async () => {
    expect(subscribed()).toEqual(NONE)
    const t = telemetry()
    const a = herd()
    const b = herd()
    const ia = instrument(a, { ...providers(t), name: 'a' })
    const ib = instrument(b, { ...providers(t), name: 'b' })
    expect(subscribed()).toEqual(ALL)
    ia.stop()
    expect(subscribed()).toEqual(ALL) // b still is
    ib.stop()
    ib.stop() // twice is fine
    expect(subscribed()).toEqual(NONE)
    // Nothing recorded after stop(), and the gauges are gone too.
    await settle(a.fetch('k', slowLoader('v', 1)))
    const m = await t.collect()
    expect(m.points(METRICS.fetches.name)).toEqual([])
    expect(m.points(METRICS.localEntries.name)).toEqual([])
  })

  it("a stopped herd's fetches stay in the cumulative count, as a counter's would: it never goes down", async () => {
    const t = telemetry()
    const first = herd()
    const stop = instrument(first, providers(t))
    await settle(first.fetch('k', slowLoader('v', 1)))
    stop.stop()
    const second = herd()
    instrument(second, providers(t))
    await settle(second.fetch('k', slowLoader('v', 1)))
    await second.fetch('k', slowLoader('v', 1))
    const m = await t.collect()
    expect(m.point(METRICS.fetches.name, { [ATTR.fetchStatus]: 'miss' }).value).toBe(2)
    expect(m.point(METRICS.fetches.name, { [ATTR.fetchStatus]: 'hit' }).value).toBe(1)
  })

  it('records only the herds it instruments', async () => {
    const t = telemetry()
    const watched = herd()
    const other = herd()
    instrument(watched, { ...providers(t), name: 'watched' })
    await settle(other.fetch('k', slowLoader('v', 1)))
    await settle(watched.fetch('k', slowLoader('v', 1)))
    const m = await t.collect()
    expect(m.points(METRICS.fetches.name).map((p) => p.attributes[ATTR.name])).toEqual(['watched'])
    expect(m.points(METRICS.localEntries.name)).toEqual([expect.objectContaining({ attributes: { [ATTR.name]: 'watched' }, value: 1 })])
  })

  it('a herd can be instrumented again after stop(), not twice at once', () => {
    const t = telemetry()
    const h = herd()
    const first = instrument(h, providers(t))
    expect(() => instrumentHerd(h, providers(t))).toThrow(HerdArgumentError)
    expect(() => instrumentHerd(h, providers(t))).toThrow('already instrumented')
    first.stop()
    expect(() => instrument(h, providers(t))).not.toThrow()
  })

  it('bad input is a HerdArgumentError at the call, naming what was wrong', () => {
    const h = herd()
    const bad: Array<[unknown, unknown, string]> = [
      [undefined, undefined, 'pass the herd'],
      [{}, undefined, 'pass the herd'],
      [h, 'users', 'options must be an object'],
      [h, { nmae: 'users' }, 'unknown option "nmae"'],
      [h, { name: '' }, 'name must be a non-empty string'],
      [h, { name: 7 }, 'name must be a non-empty string'],
      [h, { keyGroup: 'prefix' }, 'keyGroup must be a function'],
      [h, { spanKeys: 'yes' }, 'spanKeys must be true or false'],
      [h, { meterProvider: {} }, 'meterProvider must be an OpenTelemetry MeterProvider'],
      [h, { tracerProvider: 42 }, 'tracerProvider must be an OpenTelemetry TracerProvider'],
    ]
    for (const [target, options, message] of bad) {
      const call = () => instrumentHerd(target as never, options as never)
      expect(call).toThrow(HerdArgumentError)
      expect(call).toThrow(message)
    }
    // None of them left a subscription behind.
    expect(subscribed()).toEqual(NONE)
  })
})
