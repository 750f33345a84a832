import { describe, expect, it } from 'vitest'
import { type Bus, type BusListener, type BusMessage, type BusSubscribeOptions, createHerd } from '../src/index.js'
import { advance, flush, settle, useFakeClock } from './support/clock.js'
import { countingLoader } from './support/helpers.js'
import { MapLock } from './support/map-lock.js'
import { trackHerds } from './support/herds.js'
import { MapStore } from './support/map-store.js'

useFakeClock()
const track = trackHerds()

/** An in-process Bus with a switch to refuse subscriptions, and a way to say "I reconnected". */
class TestBus implements Bus {
  readonly listeners = new Set<{ listener: BusListener; options?: BusSubscribeOptions }>()
  readonly published: BusMessage[] = []
  refuseSubscribes = 0
  subscribeCalls = 0

  async publish(message: BusMessage): Promise<void> {
    this.published.push(message)
    for (const { listener } of [...this.listeners]) queueMicrotask(() => listener({ ...message }))
  }

  async subscribe(listener: BusListener, options?: BusSubscribeOptions): Promise<() => Promise<void>> {
    this.subscribeCalls++
    if (this.refuseSubscribes > 0) {
      this.refuseSubscribes--
      throw new Error('bus not reachable')
    }
    const subscription = { listener, options }
    this.listeners.add(subscription)
    return async () => {
      this.listeners.delete(subscription)
    }
  }

  /** Every subscriber was disconnected and came back. */
  resubscribed(): void {
    for (const { options } of this.listeners) options?.onResubscribe?.()
  }
}

describe('Redis (Store and Lock) unreachable', () => {
  it('a stale local copy is refreshed at most once per errorBackoff, and served meanwhile', async () => {
    const store = new MapStore()
    const lock = new MapLock()
    const herd = track(createHerd({ store, lock, ttl: 100, jitter: 0, beta: 0, staleWhileRevalidate: '1h', errorBackoff: '1s', local: { ttl: '1h' } }))
    const loader = countingLoader((n: number) => `v${n}`)
    await settle(herd.fetch('k', loader))
    store.mode = 'fail'
    lock.mode = 'fail'
    await advance(150) // stale now
    const served = new Set<string>()
    for (let t = 0; t < 3_000; t += 10) {
      served.add(await settle(herd.fetch('k', loader)))
      await advance(10)
    }
    // one load at the start, then at most one per second of backoff: 4 at most over 3 s (281 before)
    expect(loader.calls - 1).toBeLessThanOrEqual(4)
    expect(loader.calls - 1).toBeGreaterThanOrEqual(1)
    expect(served.size).toBeGreaterThanOrEqual(1)
  })

  it('loads made while the breaker is open never tell the fleet to drop its copies', async () => {
    const bus = new TestBus()
    const cutOffStore = new MapStore()
    const sharedStore = new MapStore()
    const lock = new MapLock()
    const cutOff = track(createHerd({ store: cutOffStore, lock, bus, ttl: 100, jitter: 0, beta: 0, staleWhileRevalidate: '1h', local: { ttl: '1h' } }))
    const healthy = track(createHerd({ store: sharedStore, lock, bus, ttl: '1h', jitter: 0, beta: 0, local: { ttl: '1h' } }))
    await flush()
    const healthyLoader = countingLoader('fleet value')
    await settle(healthy.fetch('k', healthyLoader))
    const before = bus.published.length
    await settle(cutOff.fetch('k', countingLoader('cut-off value')))
    cutOffStore.mode = 'fail'
    await advance(150)
    for (let i = 0; i < 100; i++) {
      await settle(cutOff.fetch('k', countingLoader('cut-off value')))
      await advance(30)
    }
    // Nothing the cut-off process loaded reached the Store, so it published nothing: the healthy process keeps its copy.
    expect(bus.published.slice(before).filter((m) => m.origin === cutOff.id && m.kind === 'set')).toHaveLength(1)
    await settle(healthy.fetch('k', healthyLoader))
    expect(healthyLoader.calls).toBe(1)
  })
})

describe('the Bus', () => {
  it('a herd created while the Bus is unreachable keeps subscribing until it works, then hears the fleet', async () => {
    const bus = new TestBus()
    bus.refuseSubscribes = 3
    const store = new MapStore()
    const listening = track(createHerd({ store, bus, local: { ttl: '1h' } }))
    const writer = track(createHerd({ store, bus }))
    await settle(listening.fetch('k', countingLoader('old')))
    for (let i = 0; i < 10 && bus.listeners.size < 2; i++) await advance(1_000)
    expect(bus.subscribeCalls).toBeGreaterThanOrEqual(5)
    expect(bus.listeners.size).toBe(2)
    await writer.set('k', 'new')
    await flush()
    await expect(settle(listening.fetch('k', countingLoader('loader')))).resolves.toBe('new')
  })

  it('after a resubscribe the local tier is treated as possibly stale', async () => {
    const bus = new TestBus()
    const store = new MapStore()
    const herd = track(createHerd({ store, bus, local: { ttl: '1h' } }))
    await flush()
    await settle(herd.fetch('k', countingLoader('old')))
    // another process wrote while this one was disconnected: the message was lost
    await store.set('k', { ...store.entries.get('k')!.entry, value: '0"new"', fence: Number.MAX_SAFE_INTEGER }, 60_000)
    await expect(settle(herd.fetch('k', countingLoader('loader')))).resolves.toBe('old')
    bus.resubscribed()
    await expect(settle(herd.fetch('k', countingLoader('loader')))).resolves.toBe('new')
  })

  it('ready(): true once the subscription took; false when the first attempt failed; true at once without a Bus', async () => {
    const bus = new TestBus()
    const store = new MapStore()
    const gated: { open?: () => void } = {}
    const subscribe = bus.subscribe.bind(bus)
    // The subscription answers when the test says so: a herd serves before it, and ready() waits for it.
    bus.subscribe = (listener, options) => new Promise<void>((open) => (gated.open = open)).then(() => subscribe(listener, options))
    const herd = track(createHerd({ store, bus, local: { ttl: '1h' } }))
    let ready: boolean | undefined
    void herd.ready().then((value) => (ready = value))
    await settle(herd.fetch('k', countingLoader('served before')))
    await flush()
    expect(ready).toBeUndefined()
    gated.open!()
    await flush()
    expect(ready).toBe(true)

    const refused = new TestBus()
    refused.refuseSubscribes = 1
    await expect(settle(track(createHerd({ store, bus: refused })).ready())).resolves.toBe(false)
    await expect(settle(track(createHerd({ store })).ready())).resolves.toBe(true)
    const closedFirst = new TestBus()
    closedFirst.subscribe = () => new Promise(() => {})
    const closing = createHerd({ store, bus: closedFirst })
    const whenReady = closing.ready()
    await closing.close()
    await expect(whenReady).resolves.toBe(false)
  })

  it("ready() also waits for the Lock's ready() where it has one; what that says doesn't change the answer, a rejection included", async () => {
    const store = new MapStore()
    for (const lockReady of [() => Promise.resolve(true), () => Promise.resolve(false), () => Promise.reject(new Error('no pub/sub'))]) {
      const gated: { open?: () => void } = {}
      const lock = Object.assign(new MapLock(), {
        ready: () => new Promise<void>((open) => (gated.open = open)).then(lockReady),
      })
      const herd = track(createHerd({ store, lock, bus: new TestBus() }))
      let ready: boolean | undefined
      void herd.ready().then((value) => (ready = value))
      await flush()
      expect(ready).toBeUndefined()
      gated.open!()
      await flush()
      expect(ready).toBe(true)
    }
  })

  it('close() during the retries leaves no timer and no subscription', async () => {
    const bus = new TestBus()
    bus.refuseSubscribes = 1_000
    const herd = createHerd({ bus })
    await advance(5_000)
    await herd.close()
    const calls = bus.subscribeCalls
    await advance(120_000)
    expect(bus.subscribeCalls).toBe(calls)
    expect(bus.listeners.size).toBe(0)
  })
})
