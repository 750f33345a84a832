import { describe, expect, it } from 'vitest'
import { type Bus, type BusMessage, HerdArgumentError, createHerd } from '../src/index.js'
import { flush, settle, useFakeClock } from './support/clock.js'
import { countingLoader, gate } from './support/helpers.js'
import { trackHerds } from './support/herds.js'
import { MapLock } from './support/map-lock.js'
import { MapStore } from './support/map-store.js'

useFakeClock()
const track = trackHerds()

function recordingBus(): Bus & { published: BusMessage[] } {
  const published: BusMessage[] = []
  return {
    published,
    async publish(message) {
      published.push(message)
    },
    async subscribe() {
      return async () => {}
    },
  }
}

describe('per-call switches', () => {
  it('local: false neither reads nor fills the local tier for that call', async () => {
    const store = new MapStore()
    const herd = track(createHerd({ store }))
    await settle(herd.fetch('k', countingLoader('v'), { local: false }))
    expect((await herd.inspect('k')).local).toBeUndefined()
    const reads = store.calls
    await settle(herd.fetch('k', countingLoader('x'), { local: false }))
    expect(store.calls).toBe(reads + 1)
    await settle(herd.fetch('k', countingLoader('x')))
    expect((await herd.inspect('k')).local).toBeDefined()
  })

  it('lock: false keeps single flight in this process but never asks the Lock', async () => {
    const lock = new MapLock()
    const herd = track(createHerd({ store: new MapStore(), lock }))
    const slow = gate<string>()
    const loader = Object.assign(() => ((loader.calls += 1), slow.promise), { calls: 0 })
    const callers = Array.from({ length: 10 }, () => herd.fetch('k', loader, { lock: false }))
    await flush()
    slow.open('v')
    await expect(settle(Promise.all(callers))).resolves.toEqual(Array(10).fill('v'))
    expect(loader.calls).toBe(1)
    expect(lock.calls.acquire).toBe(0)
    await expect(herd.get('k')).resolves.toBe('v')
  })

  it('bus: false writes without telling the other processes', async () => {
    const bus = recordingBus()
    const herd = track(createHerd({ store: new MapStore(), bus }))
    await settle(herd.fetch('quiet', countingLoader('v'), { bus: false }))
    await settle(herd.fetch('loud', countingLoader('v')))
    expect(bus.published.map((m) => m.key)).toEqual(['loud'])
  })

  it('rejects switches that are not booleans', async () => {
    const herd = track(createHerd())
    await expect(herd.fetch('k', countingLoader(1), { local: 'no' as never })).rejects.toThrow(HerdArgumentError)
    await expect(herd.fetch('k', countingLoader(1), { lock: 0 as never })).rejects.toThrow(/lock must be true or false/)
  })
})
