import { describe, expect, it } from 'vitest'
import { type Bus, type BusListener, type BusMessage, createHerd } from '../src/index.js'
import { flush, settle, useFakeClock } from './support/clock.js'
import { countingLoader } from './support/helpers.js'
import { trackHerds } from './support/herds.js'
import { MapStore } from './support/map-store.js'

useFakeClock()
const track = trackHerds()

/** A Bus that records what the herd publishes and hands it, by hand, what "another process" published. */
function handBus(): Bus & { published: BusMessage[]; deliver(message: BusMessage): void } {
  const published: BusMessage[] = []
  const listeners = new Set<BusListener>()
  return {
    published,
    deliver: (message) => {
      for (const listener of listeners) listener(message)
    },
    async publish(message) {
      published.push(message)
    },
    async subscribe(listener) {
      listeners.add(listener)
      return async () => void listeners.delete(listener)
    },
  }
}

/**
 * A `set` message carries the written entry's fence: a process that already
 * holds that very entry (a waiter woken with it by the fill, which on a
 * Redis Cluster hears the fill's Bus message after the wake-up) keeps it;
 * any other copy goes, as any copy went before.
 */
describe("a set message's fence", () => {
  async function herdWithCopy() {
    const bus = handBus()
    const herd = track(createHerd({ store: new MapStore(), bus }))
    await herd.ready()
    await settle(herd.fetch('k', countingLoader('v')))
    const held = (await herd.inspect('k')).local
    expect(held).toBeDefined()
    const own = bus.published.find((m) => m.kind === 'set')!
    return { bus, herd, fence: held!.fence, name: own.key, own }
  }

  it('goes out with the set: the fence of the entry written', async () => {
    const { own, fence } = await herdWithCopy()
    expect(own.fence).toBe(fence)
  })

  it('keeps a local copy with exactly that fence; drops one with any other fence, or on a set without one', async () => {
    const { bus, herd, fence, name } = await herdWithCopy()
    bus.deliver({ kind: 'set', key: name, origin: 'another process', fence })
    await flush()
    expect((await herd.inspect('k')).local?.fence).toBe(fence)
    bus.deliver({ kind: 'set', key: name, origin: 'another process', fence: fence + 1 })
    await flush()
    expect((await herd.inspect('k')).local).toBeUndefined()

    await settle(herd.fetch('k', countingLoader('v')))
    expect((await herd.inspect('k')).local).toBeDefined()
    bus.deliver({ kind: 'set', key: name, origin: 'another process' })
    await flush()
    expect((await herd.inspect('k')).local).toBeUndefined()
  })

  it('changes nothing for expire and delete: the copy goes whatever its fence', async () => {
    for (const kind of ['expire', 'delete'] as const) {
      const { bus, herd, fence, name } = await herdWithCopy()
      bus.deliver({ kind, key: name, origin: 'another process', fence })
      await flush()
      expect((await herd.inspect('k')).local, kind).toBeUndefined()
    }
  })

  it("never keeps a copy loaded while the Store was down (its fence is this process's own)", async () => {
    const bus = handBus()
    const store = new MapStore()
    const herd = track(createHerd({ store, bus }))
    await herd.ready()
    store.mode = 'fail'
    await settle(herd.fetch('k', countingLoader('v')))
    const held = (await herd.inspect('k')).local
    expect(held).toBeDefined()
    bus.deliver({ kind: 'set', key: 'k', origin: 'another process', fence: held!.fence })
    await flush()
    expect((await herd.inspect('k')).local).toBeUndefined()
  })
})
