import { afterEach, describe, expect, it } from 'vitest'
import { HerdArgumentError, createHerd, type Herd, type HerdEventName } from '../src/index.js'
import { advance, settle, useFakeClock } from './support/clock.js'
import { countingLoader } from './support/helpers.js'
import { MapStore } from './support/map-store.js'

useFakeClock()
let herd: Herd
afterEach(() => herd?.close())

function record(h: Herd, names: HerdEventName[]) {
  const seen: Array<[string, unknown]> = []
  for (const name of names) h.on(name, (payload) => seen.push([name, payload]))
  return seen
}

describe('events and stats', () => {
  it('a miss, a coalesced caller, a load, then hits by tier', async () => {
    const store = new MapStore()
    herd = createHerd({ store, local: { ttl: 20 } })
    const seen = record(herd, ['miss', 'coalesced', 'load', 'hit', 'write'])
    const loader = countingLoader('v', 10)
    await settle(Promise.all([herd.fetch('k', loader), herd.fetch('k', loader)]))
    await herd.fetch('k', loader)
    await advance(30) // the local copy is only borrowed for local.ttl
    await herd.fetch('k', loader)
    // the leader counts its miss once its Store read comes back, after the second caller joined
    expect(seen.map(([name]) => name)).toEqual(['coalesced', 'miss', 'load', 'write', 'hit', 'hit'])
    expect(seen[2]![1]).toMatchObject({ key: 'k', ok: true, background: false })
    expect(seen[4]![1]).toEqual({ key: 'k', tier: 'local' })
    expect(seen[5]![1]).toEqual({ key: 'k', tier: 'store' })
    const stats = herd.stats()
    expect(stats).toMatchObject({ misses: 1, coalesced: 1, loads: 1, hits: { local: 1, store: 1 }, requests: 4 })
    expect(stats.hitRatio).toBe(0.5)
    expect(stats.coalescedRatio).toBe(0.25)
    expect(stats.loadMsTotal).toBe(10)
  })

  it('stale serves, refreshes and loader errors are reported', async () => {
    herd = createHerd({ ttl: 10, jitter: 0, staleWhileRevalidate: '1m', beta: 0 })
    const seen = record(herd, ['stale', 'refresh', 'error', 'load'])
    let fail = false
    const loader = async () => {
      if (fail) throw new Error('db down')
      return 'v'
    }
    await herd.fetch('k', loader)
    await advance(20)
    fail = true
    await herd.fetch('k', loader)
    await advance(10)
    expect(seen.map(([name]) => name)).toEqual(['load', 'stale', 'load', 'error', 'refresh'])
    expect(seen[4]![1]).toMatchObject({ key: 'k', ok: false, reason: 'stale' })
    expect(herd.stats()).toMatchObject({ refreshes: 1, refreshErrors: 1, loadErrors: 1 })
  })

  it('a throwing listener never breaks a fetch; it is reported as a listener error', async () => {
    herd = createHerd()
    const errors: unknown[] = []
    herd.on('error', (e) => errors.push(e))
    herd.on('miss', () => {
      throw new Error('dashboard bug')
    })
    await expect(herd.fetch('k', countingLoader(1))).resolves.toBe(1)
    expect(errors).toEqual([expect.objectContaining({ source: 'listener' })])
  })

  it('on() returns an unsubscribe function and rejects unknown events', async () => {
    herd = createHerd()
    const seen: unknown[] = []
    const off = herd.on('miss', (e) => seen.push(e))
    await herd.fetch('a', countingLoader(1))
    off()
    await herd.fetch('b', countingLoader(1))
    expect(seen).toHaveLength(1)
    expect(() => herd.on('nope' as never, () => {})).toThrow(HerdArgumentError)
    expect(() => herd.on('hit', 'x' as never)).toThrow(HerdArgumentError)
  })
})

describe('local tier', () => {
  it('stays bounded under many distinct keys', async () => {
    herd = createHerd({ local: { maxSize: 1_000 } })
    for (let i = 0; i < 20_000; i++) await herd.fetch(`k${i}`, () => i)
    // the most recent keys are hits, the oldest were evicted
    const loader = countingLoader(-1)
    await expect(herd.fetch('k19999', loader)).resolves.toBe(19999)
    await expect(herd.fetch('k0', loader)).resolves.toBe(-1)
    expect(loader.calls).toBe(1)
  })

  it('a local hit does not touch the Store', async () => {
    const store = new MapStore()
    herd = createHerd({ store })
    await herd.fetch('k', countingLoader(1))
    const calls = store.calls
    for (let i = 0; i < 100; i++) await herd.fetch('k', countingLoader(2))
    expect(store.calls).toBe(calls)
  })
})
