import { afterEach, describe, expect, it } from 'vitest'
import { HerdArgumentError, HerdClosedError, HerdEncodeError, HerdTimeoutError, createHerd, type Herd } from '../src/index.js'
import { advance, settle, useFakeClock } from './support/clock.js'
import { countingLoader } from './support/helpers.js'
import { MapStore } from './support/map-store.js'

useFakeClock()
let herd: Herd
afterEach(() => herd?.close())

describe('bad input gets a typed error at the call that caused it', () => {
  it.each([[''], [42], [null], [undefined], [{}], [['a']]])('rejects the key %j', async (key) => {
    herd = createHerd()
    const loader = countingLoader('v')
    await expect(herd.fetch(key as never, loader)).rejects.toThrow(HerdArgumentError)
    await expect(herd.get(key as never)).rejects.toThrow(HerdArgumentError)
    await expect(herd.set(key as never, 1)).rejects.toThrow(HerdArgumentError)
    await expect(herd.expire(key as never)).rejects.toThrow(HerdArgumentError)
    await expect(herd.delete(key as never)).rejects.toThrow(HerdArgumentError)
    expect(loader.calls).toBe(0)
  })

  it.each([Number.NaN, -5, Infinity, 'soon', '5 weeks'])('rejects the duration %j per call and at creation', async (ttl) => {
    herd = createHerd()
    const loader = countingLoader('v')
    await expect(herd.fetch('k', loader, { ttl: ttl as never })).rejects.toThrow(HerdArgumentError)
    await expect(herd.fetch('k', loader, { staleWhileRevalidate: ttl as never })).rejects.toThrow(/staleWhileRevalidate/)
    await expect(herd.fetch('k', loader, { hardTimeout: ttl as never })).rejects.toThrow(HerdArgumentError)
    await expect(herd.set('k', 1, { ttl: ttl as never })).rejects.toThrow(HerdArgumentError)
    expect(() => createHerd({ ttl: ttl as never })).toThrow(HerdArgumentError)
    expect(() => createHerd({ staleIfError: ttl as never })).toThrow(/staleIfError/)
    expect(loader.calls).toBe(0)
  })

  it('rejects bad options at creation', () => {
    expect(() => createHerd({ jitter: 2 })).toThrow(/jitter/)
    expect(() => createHerd({ beta: -1 })).toThrow(/beta/)
    expect(() => createHerd({ hardTimeout: 0 })).toThrow(/hardTimeout/)
    expect(() => createHerd({ maxConcurrentLoads: 0 })).toThrow(/maxConcurrentLoads/)
    expect(() => createHerd({ local: { maxSize: 1.5 } })).toThrow(/local.maxSize/)
    expect(() => createHerd({ local: false })).toThrow(/needs a store/)
    expect(() => createHerd({ store: {} as never })).toThrow(/store must implement/)
    expect(() => createHerd({ staleWhileRevalidation: '1s' } as never)).toThrow(/unknown option "staleWhileRevalidation"/)
  })

  it.each([[undefined], ['not a function'], [{}]])('rejects a loader that is %j', async (loader) => {
    herd = createHerd()
    await expect(herd.fetch('k', loader as never)).rejects.toThrow(HerdArgumentError)
  })

  it('rejects a signal that is not an AbortSignal', async () => {
    herd = createHerd()
    await expect(herd.fetch('k', countingLoader(1), { signal: {} as never })).rejects.toThrow(/AbortSignal/)
  })

  it('a loader that throws synchronously rejects every caller with its error and caches nothing', async () => {
    herd = createHerd()
    const boom = new Error('sync boom')
    let calls = 0
    const loader = () => {
      calls++
      throw boom
    }
    const results = await settle(Promise.allSettled(Array.from({ length: 10 }, () => herd.fetch('k', loader))))
    for (const r of results) expect(r).toEqual({ status: 'rejected', reason: boom })
    expect(calls).toBe(1)
    await expect(herd.get('k')).resolves.toBeUndefined()
  })

  it.each([
    ['a function', () => () => 1],
    ['a symbol', () => Symbol('s')],
    [
      'a circular object',
      () => {
        const o: Record<string, unknown> = {}
        o.self = o
        return o
      },
    ],
  ])('a loader returning %s rejects with HerdEncodeError, caches nothing, leaves nothing pending', async (_name, make) => {
    const store = new MapStore()
    herd = createHerd({ store, staleIfError: '1h' })
    const loader = countingLoader(() => make())
    const results = await settle(Promise.allSettled(Array.from({ length: 5 }, () => herd.fetch('k', loader))))
    for (const r of results) {
      expect(r.status).toBe('rejected')
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(HerdEncodeError)
    }
    expect(loader.calls).toBe(1)
    expect(store.entries.size).toBe(0)
    await expect(herd.get('k')).resolves.toBeUndefined()
  })

  it('set() of a value the codec cannot encode rejects and keeps the old value', async () => {
    const store = new MapStore()
    herd = createHerd({ store })
    await herd.set('k', { ok: true })
    await expect(herd.set('k', { f: () => 1 })).rejects.toThrow(HerdEncodeError)
    await expect(herd.set('k', undefined)).rejects.toThrow(HerdArgumentError)
    await expect(herd.get('k')).resolves.toEqual({ ok: true })
  })

  it('the codec rejects the same values without a Store, so backends behave alike', async () => {
    herd = createHerd()
    await expect(herd.fetch('k', () => ({ f: () => 1 }))).rejects.toThrow(HerdEncodeError)
    await expect(herd.set('k', Symbol('s'))).rejects.toThrow(HerdEncodeError)
  })

  it('a loader that never settles is bounded by the hard timeout, and its signal aborts', async () => {
    herd = createHerd({ hardTimeout: 50 })
    let signal: AbortSignal | undefined
    const never = (ctx: { signal: AbortSignal }) => {
      signal = ctx.signal
      return new Promise<string>(() => {})
    }
    const results = await settle(Promise.allSettled(Array.from({ length: 3 }, () => herd.fetch('k', never))))
    for (const r of results) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(HerdTimeoutError)
    expect(signal?.aborted).toBe(true)
    expect(signal?.reason).toBeInstanceOf(HerdTimeoutError)
    expect(herd.stats().timeouts).toBe(1)
  })

  it('corrupt bytes in the Store are a miss plus an error event, not a crash', async () => {
    const store = new MapStore()
    herd = createHerd({ store, local: false })
    await herd.set('k', { v: 1 })
    const slot = store.entries.get('k')!
    slot.entry = { ...slot.entry, value: '1{"~":"?"' }
    const errors: Array<{ source: string }> = []
    herd.on('error', (e) => errors.push(e))
    const loader = countingLoader({ v: 2 })
    await expect(herd.fetch('k', loader)).resolves.toEqual({ v: 2 })
    expect(loader.calls).toBe(1)
    expect(errors).toEqual([expect.objectContaining({ key: 'k', source: 'codec' })])
  })

  it('close() rejects pending calls, and every later call rejects with HerdClosedError', async () => {
    const store = new MapStore()
    herd = createHerd({ store })
    let signal: AbortSignal | undefined
    const pending = herd.fetch('k', (ctx) => {
      signal = ctx.signal
      return new Promise(() => {})
    })
    await advance(5)
    await herd.close()
    await expect(pending).rejects.toThrow(HerdClosedError)
    expect(signal?.aborted).toBe(true)
    await expect(herd.fetch('k', countingLoader(1))).rejects.toThrow(HerdClosedError)
    await expect(herd.get('k')).rejects.toThrow(HerdClosedError)
    await expect(herd.set('k', 1)).rejects.toThrow(HerdClosedError)
    await expect(herd.expire('k')).rejects.toThrow(HerdClosedError)
    await expect(herd.delete('k')).rejects.toThrow(HerdClosedError)
    expect(() => herd.on('hit', () => {})).toThrow(HerdClosedError)
    await expect(herd.close()).resolves.toBeUndefined()
  })
})
