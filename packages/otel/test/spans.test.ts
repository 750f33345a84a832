import { memoryLock, memoryStore } from '@herd/memory'
import { SpanKind, SpanStatusCode, context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ATTR, SPANS } from '../src/names.js'
import { advance, gate, settle, slowLoader, useFakeClock } from './support/clock.js'
import { herd, instrument, providers, telemetry } from './support/herds.js'

useFakeClock()

// Spans are parented to the active span: the context manager a Node app registers.
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
})
afterAll(() => {
  context.disable()
})

describe('spans from a real herd', () => {
  it('herd.load: one INTERNAL span per loader run, child of the request that missed, with reason and background', async () => {
    const t = telemetry()
    const h = herd({ ttl: 100, jitter: 0, beta: 0, staleWhileRevalidate: '1m' })
    instrument(h, { ...providers(t), name: 'pages' })
    const tracer = t.tracerProvider.getTracer('app')
    await tracer.startActiveSpan('GET /home', async (request) => {
      await settle(h.fetch('home', slowLoader('html', 30)))
      request.end()
    })
    await advance(150)
    await settle(h.fetch('home', slowLoader('html2', 20))) // stale: a background refresh, outside any request
    await advance(20)

    const [request] = t.spans('GET /home')
    const loads = t.spans(SPANS.load)
    expect(loads).toHaveLength(2)
    const [miss, refresh] = loads
    expect(miss).toMatchObject({
      kind: SpanKind.INTERNAL,
      attributes: { [ATTR.name]: 'pages', [ATTR.loadReason]: 'miss', [ATTR.loadBackground]: false },
      status: { code: SpanStatusCode.UNSET },
      instrumentationScope: { name: '@herd/otel' },
    })
    expect(miss!.parentSpanContext?.spanId).toBe(request!.spanContext().spanId)
    expect(miss!.spanContext().traceId).toBe(request!.spanContext().traceId)
    expect(refresh!.attributes).toMatchObject({ [ATTR.loadReason]: 'stale', [ATTR.loadBackground]: true })
    expect(refresh!.parentSpanContext).toBeUndefined()
    // The key stays off spans unless asked.
    expect(miss!.attributes).not.toHaveProperty(ATTR.key)
    // No span per fetch unless asked.
    expect(t.spans(SPANS.fetch)).toEqual([])
  })

  it('a failed load: status ERROR, error.type and the exception recorded', async () => {
    const t = telemetry()
    const h = herd()
    instrument(h, providers(t))
    await expect(
      settle(
        h.fetch('k', async () => {
          throw new RangeError('out of range')
        }),
      ),
    ).rejects.toThrow('out of range')
    const [load] = t.spans(SPANS.load)
    expect(load).toMatchObject({ status: { code: SpanStatusCode.ERROR, message: 'out of range' }, attributes: { [ATTR.errorType]: 'RangeError' } })
    expect(load!.events.map((e) => e.name)).toEqual(['exception'])
  })

  it('herd.lock.wait: the wait for another holder, with its outcome, under the waiting request', async () => {
    const t = telemetry()
    const store = memoryStore()
    const lock = memoryLock()
    const holder = herd({ store, lock })
    const waiter = herd({ store, lock })
    instrument(waiter, { ...providers(t), spanKeys: true, keyGroup: (key) => key.split(':')[0] })
    const slow = gate<string>()
    const held = holder.fetch('report:7', () => slow.promise)
    await advance(0)
    const tracer = t.tracerProvider.getTracer('app')
    const waiting = tracer.startActiveSpan('GET /report/7', (request) => waiter.fetch('report:7', slowLoader('never', 1)).finally(() => request.end()))
    await advance(25)
    slow.open('v')
    await settle(Promise.all([held, waiting]))

    const [wait] = t.spans(SPANS.lockWait)
    const [request] = t.spans('GET /report/7')
    expect(wait).toMatchObject({
      kind: SpanKind.INTERNAL,
      attributes: { [ATTR.lockOutcome]: 'released', [ATTR.key]: 'report:7', [ATTR.keyGroup]: 'report' },
    })
    expect(wait!.parentSpanContext?.spanId).toBe(request!.spanContext().spanId)
    // The waiter loaded nothing: the holder did (and it is not instrumented).
    expect(t.spans(SPANS.load)).toEqual([])
  })

  it('fetchSpans: a span per fetch with its status and tier', async () => {
    const t = telemetry()
    const h = herd()
    instrument(h, { ...providers(t), fetchSpans: true })
    await settle(h.fetch('k', slowLoader('v', 1)))
    await h.fetch('k', slowLoader('v', 1))
    expect(t.spans(SPANS.fetch).map((s) => s.attributes)).toEqual([{ [ATTR.fetchStatus]: 'miss' }, { [ATTR.fetchStatus]: 'hit', [ATTR.tier]: 'local' }])
  })

  it('spans: false records metrics only; metrics: false records spans only', async () => {
    const t = telemetry()
    const a = herd()
    instrument(a, { ...providers(t), name: 'a', spans: false })
    await settle(a.fetch('k', slowLoader('v', 1)))
    expect(t.spans()).toEqual([])
    expect((await t.collect()).points('herd.fetches')).toHaveLength(1)

    const t2 = telemetry()
    const b = herd()
    instrument(b, { ...providers(t2), metrics: false })
    await settle(b.fetch('k', slowLoader('v', 1)))
    expect(t2.spans(SPANS.load)).toHaveLength(1)
    expect((await t2.collect()).byName.size).toBe(0)
  })

  it('stop() ends a span still open, so none is left dangling', async () => {
    const t = telemetry()
    const h = herd()
    const instrumentation = instrument(h, providers(t))
    const slow = gate<string>()
    const pending = h.fetch('k', () => slow.promise)
    await advance(0)
    expect(t.spans(SPANS.load)).toEqual([])
    instrumentation.stop()
    expect(t.spans(SPANS.load)).toHaveLength(1)
    slow.open('v')
    await settle(pending)
    expect(t.spans(SPANS.load)).toHaveLength(1)
  })
})
