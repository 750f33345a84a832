import { channel, subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { type BreakerMessage, type FetchContext, type LoadContext, type LockContext, type WriteContext, createHerd } from '../src/index.js'
import { advance, flush, settle, useFakeClock } from './support/clock.js'
import { countingLoader, gate } from './support/helpers.js'
import { trackHerds } from './support/herds.js'
import { MapLock } from './support/map-lock.js'
import { MapStore } from './support/map-store.js'

useFakeClock()
const track = trackHerds()

/** Every context published on a tracing channel's asyncEnd (the operation's end), and its errors. */
function record<C>(name: string): { ended: C[]; started: C[]; stop(): void } {
  const ended: C[] = []
  const started: C[] = []
  const handlers = {
    start: (context: unknown) => started.push(context as C),
    end: () => {},
    asyncStart: () => {},
    asyncEnd: (context: unknown) => ended.push({ ...(context as C) }),
    error: () => {},
  }
  tracingChannel(name).subscribe(handlers)
  const stop = () => tracingChannel(name).unsubscribe(handlers)
  stops.push(stop)
  return { ended, started, stop }
}
const stops: Array<() => void> = []
afterEach(() => {
  for (const stop of stops.splice(0)) stop()
})

describe('diagnostics channels', () => {
  it('herd:fetch says how each caller was answered, and by which tier', async () => {
    const fetches = record<FetchContext>('herd:fetch')
    const store = new MapStore()
    const herd = track(createHerd({ store, ttl: 100, jitter: 0, beta: 0, staleWhileRevalidate: '1m', local: { ttl: 50 } }))
    const loader = countingLoader((n: number) => n, 10)
    await settle(Promise.all([herd.fetch('k', loader), herd.fetch('k', loader)]))
    await herd.fetch('k', loader)
    await advance(60) // the local copy lapsed; the Store's is still fresh
    await settle(herd.fetch('k', loader))
    await advance(60) // stale now
    await settle(herd.fetch('k', loader))
    expect(fetches.ended.map(({ status, tier }) => ({ status, tier }))).toEqual([
      { status: 'miss', tier: undefined },
      { status: 'coalesced', tier: undefined },
      { status: 'hit', tier: 'local' },
      { status: 'hit', tier: 'store' },
      { status: 'stale', tier: 'store' },
    ])
    expect(fetches.ended.every((c) => c.herd === herd.id && c.key === 'k')).toBe(true)
  })

  it('herd:load reports each loader run with its reason, duration and outcome', async () => {
    const loads = record<LoadContext>('herd:load')
    const herd = track(createHerd({ ttl: 100, jitter: 0, beta: 0, staleWhileRevalidate: '1m' }))
    await settle(herd.fetch('k', countingLoader('v', 30)))
    await advance(150)
    await settle(herd.fetch('k', countingLoader('v2', 20)))
    await advance(20)
    expect(loads.ended).toEqual([
      { herd: herd.id, key: 'k', reason: 'miss', background: false, durationMs: 30, ok: true, result: expect.anything() },
      { herd: herd.id, key: 'k', reason: 'stale', background: true, durationMs: 20, ok: true, result: expect.anything() },
    ])
  })

  it('herd:lock reports an acquire and a wait for another holder, with how long it waited', async () => {
    const locks = record<LockContext>('herd:lock')
    const store = new MapStore()
    const lock = new MapLock()
    const holder = track(createHerd({ store, lock }))
    const waiter = track(createHerd({ store, lock }))
    const slow = gate<string>()
    const held = holder.fetch('k', () => slow.promise)
    await flush()
    const waiting = waiter.fetch('k', countingLoader('never'))
    await flush()
    await advance(40)
    slow.open('v')
    await expect(settle(Promise.all([held, waiting]))).resolves.toEqual(['v', 'v'])
    const byHerd = (id: string) => locks.ended.filter((c) => c.herd === id).map(({ operation, outcome }) => `${operation}:${outcome}`)
    expect(byHerd(holder.id)).toEqual(['acquire:lease'])
    expect(byHerd(waiter.id)).toEqual(['acquire:busy', 'wait:released'])
    expect(locks.ended.find((c) => c.operation === 'wait')!.waitedMs).toBe(40)
  })

  it('herd:write reports written, fenced-out and local-only writes', async () => {
    const writes = record<WriteContext>('herd:write')
    const store = new MapStore()
    const herd = track(createHerd({ store, local: false }))
    await herd.set('a', 1)
    await store.set('b', { value: '01', fence: Number.MAX_SAFE_INTEGER, createdAt: 0, freshUntil: 0, staleUntil: 0, errorUntil: 0, loadMs: 0 }, 60_000)
    await herd.set('b', 2)
    store.mode = 'fail'
    await herd.set('c', 3)
    expect(writes.ended.map(({ key, kind, outcome }) => `${key}:${kind}:${outcome}`)).toEqual(['a:set:written', 'b:set:fenced-out', 'c:set:local-only'])
  })

  it('herd:breaker and herd:bus are plain channels', async () => {
    const breaker: BreakerMessage[] = []
    const onBreaker = (message: unknown) => breaker.push(message as BreakerMessage)
    subscribe('herd:breaker', onBreaker)
    stops.push(() => unsubscribe('herd:breaker', onBreaker))
    const store = new MapStore()
    store.mode = 'fail'
    const herd = track(createHerd({ store, local: false, breaker: { threshold: 1, resetAfter: '1m' } }))
    await settle(herd.fetch('k', countingLoader('v')))
    expect(breaker).toEqual([{ herd: herd.id, from: 'closed', to: 'open' }])
    expect(channel('herd:bus').name).toBe('herd:bus')
  })

  it('with no subscriber nothing is published and no context is built', async () => {
    const herd = track(createHerd())
    for (const name of ['herd:fetch', 'herd:load', 'herd:lock', 'herd:write']) expect(tracingChannel(name).hasSubscribers).toBe(false)
    await expect(herd.fetch('k', countingLoader('v'))).resolves.toBe('v')
  })
})
