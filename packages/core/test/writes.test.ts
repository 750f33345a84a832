import { afterEach, describe, expect, it } from 'vitest'
import { createHerd, type Herd } from '../src/index.js'
import { advance, settle, useFakeClock } from './support/clock.js'
import { countingLoader } from './support/helpers.js'
import { MapStore } from './support/map-store.js'

useFakeClock()
let herd: Herd
afterEach(() => herd?.close())

describe.each([
  ['local tier only', () => createHerd({ staleWhileRevalidate: '1m', beta: 0 })],
  ['local tier over a Store', () => createHerd({ store: new MapStore(), staleWhileRevalidate: '1m', beta: 0 })],
  ['Store only', () => createHerd({ store: new MapStore(), local: false, staleWhileRevalidate: '1m', beta: 0 })],
])('writes (%s)', (_name, make) => {
  it('set() writes through: the next fetch gets it without calling the loader', async () => {
    herd = make()
    await herd.set('k', { v: 'set' })
    const loader = countingLoader({ v: 'loaded' })
    await expect(herd.fetch('k', loader)).resolves.toEqual({ v: 'set' })
    await expect(herd.get('k')).resolves.toEqual({ v: 'set' })
    expect(loader.calls).toBe(0)
  })

  it('expire() marks the entry stale: the next read serves it and one refresh runs', async () => {
    herd = make()
    const loader = countingLoader((n: number) => `v${n}`, 20)
    await settle(herd.fetch('k', loader))
    await herd.expire('k')
    await expect(herd.fetch('k', loader)).resolves.toBe('v1')
    await expect(herd.fetch('k', loader)).resolves.toBe('v1')
    await advance(20)
    expect(loader.calls).toBe(2)
    await expect(herd.fetch('k', loader)).resolves.toBe('v2')
  })

  it('delete() removes the entry: the next fetch loads', async () => {
    herd = make()
    const loader = countingLoader((n: number) => `v${n}`)
    await herd.fetch('k', loader)
    await herd.delete('k')
    await expect(herd.get('k')).resolves.toBeUndefined()
    await expect(herd.fetch('k', loader)).resolves.toBe('v2')
  })

  it("a load in flight when delete() runs can't bring the old value back", async () => {
    herd = make()
    let release!: () => void
    const slow = () => new Promise<string>((resolve) => (release = () => resolve('old')))
    const inFlight = herd.fetch('k', slow)
    await advance(5)
    await herd.delete('k')
    release()
    await expect(inFlight).resolves.toBe('old') // its callers asked before the delete
    await expect(herd.get('k')).resolves.toBeUndefined()
    await expect(herd.fetch('k', countingLoader('new'))).resolves.toBe('new')
  })

  it("a load in flight when set() runs can't overwrite the newer value", async () => {
    herd = make()
    let release!: () => void
    const slow = () => new Promise<string>((resolve) => (release = () => resolve('loaded before the set')))
    const inFlight = herd.fetch('k', slow)
    await advance(5)
    await herd.set('k', 'set later')
    release()
    await inFlight
    await expect(herd.get('k')).resolves.toBe('set later')
  })
})

describe('fences in the Store', () => {
  it('set() writes with a newer fence than the load before it; older writes are refused', async () => {
    const store = new MapStore()
    herd = createHerd({ store })
    await settle(herd.fetch('k', countingLoader('loaded')))
    const first = store.entries.get('k')!.entry.fence
    await herd.set('k', 'set')
    const second = store.entries.get('k')!.entry.fence
    expect(second).toBeGreaterThan(first)
    const refused = await store.set('k', { ...store.entries.get('k')!.entry, fence: first, value: '0"stale"' }, 60_000)
    expect(refused).toBe(false)
    await expect(herd.get('k')).resolves.toBe('set')
  })
})
