import { afterEach, describe, expect, it, vi } from 'vitest'
import { createHerd, type Herd } from '../src/index.js'
import { advance, settle, useFakeClock } from './support/clock.js'
import { countingLoader } from './support/helpers.js'
import { MapStore } from './support/map-store.js'

useFakeClock()
let herd: Herd
afterEach(async () => {
  vi.restoreAllMocks()
  await herd?.close()
})

describe('XFetch early refresh', () => {
  it('with beta > 0, a slow-to-load entry is refreshed in the background before it expires', async () => {
    herd = createHerd({ ttl: 1_000, jitter: 0, beta: 1 })
    const loader = countingLoader((n: number) => n, 30)
    await settle(herd.fetch('k', loader))
    // rand → 0 makes -ln(rand) huge: XFetch volunteers now, while the entry is still fresh
    vi.spyOn(Math, 'random').mockReturnValue(1e-300)
    await expect(settle(herd.fetch('k', loader))).resolves.toBe(1)
    vi.restoreAllMocks()
    await advance(60)
    expect(loader.calls).toBe(2)
    expect(herd.stats().earlyRefreshes).toBe(1)
    await expect(settle(herd.fetch('k', loader))).resolves.toBe(2)
  })

  it('with a typical draw, a fresh entry far from expiry is not refreshed', async () => {
    herd = createHerd({ ttl: 10_000, jitter: 0, beta: 1 })
    const loader = countingLoader(1, 5)
    await settle(herd.fetch('k', loader))
    for (let i = 0; i < 100; i++) await herd.fetch('k', loader)
    expect(loader.calls).toBe(1)
  })

  it('beta 0 disables it', async () => {
    herd = createHerd({ ttl: 1_000, jitter: 0, beta: 0 })
    const loader = countingLoader(1, 20)
    await settle(herd.fetch('k', loader))
    vi.spyOn(Math, 'random').mockReturnValue(1e-300)
    for (let i = 0; i < 10; i++) await herd.fetch('k', loader)
    await advance(40)
    expect(loader.calls).toBe(1)
  })

  it('stores the measured loader duration in the entry (its delta)', async () => {
    const store = new MapStore()
    herd = createHerd({ store })
    await settle(herd.fetch('k', countingLoader('v', 40)))
    expect(store.entries.get('k')!.entry.loadMs).toBe(40)
  })
})

describe('TTL jitter', () => {
  it('shortens each ttl by a uniform factor in [1 - jitter, 1]', async () => {
    const store = new MapStore()
    herd = createHerd({ store, ttl: 10_000, jitter: 0.5 })
    const ttls: number[] = []
    for (let i = 0; i < 200; i++) {
      await settle(herd.fetch(`k${i}`, countingLoader(i)))
      const { entry } = store.entries.get(`k${i}`)!
      ttls.push(entry.freshUntil - entry.createdAt)
    }
    expect(Math.min(...ttls)).toBeGreaterThanOrEqual(5_000)
    expect(Math.max(...ttls)).toBeLessThanOrEqual(10_000)
    // spread out, not all at one end
    expect(ttls.filter((t) => t < 7_500).length).toBeGreaterThan(40)
    expect(ttls.filter((t) => t >= 7_500).length).toBeGreaterThan(40)
  })

  it('jitter 0 per call gives the exact ttl', async () => {
    const store = new MapStore()
    herd = createHerd({ store, ttl: 10_000 })
    await settle(herd.fetch('k', countingLoader(1), { jitter: 0, ttl: '1m' }))
    const { entry } = store.entries.get('k')!
    expect(entry.freshUntil - entry.createdAt).toBe(60_000)
  })
})

describe('negative caching', () => {
  it('a loader returning undefined means "not found": cached for negativeTtl, loader not called again', async () => {
    herd = createHerd({ negativeTtl: 50, jitter: 0 })
    const loader = countingLoader(undefined)
    await expect(settle(herd.fetch('user:404', loader))).resolves.toBeUndefined()
    await expect(settle(herd.fetch('user:404', loader))).resolves.toBeUndefined()
    expect(loader.calls).toBe(1)
    expect(herd.stats().negativeHits).toBe(1)
    await advance(70)
    await settle(herd.fetch('user:404', loader))
    expect(loader.calls).toBe(2)
  })

  it('negativeTtl 0 disables it', async () => {
    herd = createHerd({ negativeTtl: 0 })
    const loader = countingLoader(undefined)
    await settle(herd.fetch('k', loader))
    await settle(herd.fetch('k', loader))
    expect(loader.calls).toBe(2)
  })

  it('set() and delete() clear a negative entry', async () => {
    herd = createHerd({ negativeTtl: '1m' })
    await settle(herd.fetch('k', countingLoader(undefined)))
    await herd.set('k', 'found now')
    await expect(settle(herd.fetch('k', countingLoader('loader')))).resolves.toBe('found now')
    await herd.delete('k')
    await settle(herd.fetch('k', countingLoader(undefined)))
    await herd.delete('k')
    await expect(settle(herd.fetch('k', countingLoader('after delete')))).resolves.toBe('after delete')
  })

  it('null is a value, not "not found"', async () => {
    herd = createHerd({ negativeTtl: 0 })
    const loader = countingLoader(null)
    await expect(settle(herd.fetch('k', loader))).resolves.toBeNull()
    await expect(settle(herd.fetch('k', loader))).resolves.toBeNull()
    expect(loader.calls).toBe(1)
  })
})

describe('adaptive TTL', () => {
  it('the loader sets the entry ttl from what it loaded', async () => {
    const store = new MapStore()
    herd = createHerd({ store, ttl: '1h', jitter: 0 })
    await herd.fetch('token', (ctx) => {
      ctx.setTtl('30s')
      return { token: 'abc' }
    })
    const { entry } = store.entries.get('token')!
    expect(entry.freshUntil - entry.createdAt).toBe(30_000)
  })

  it('setTtl(0) returns the value to every caller without caching it', async () => {
    herd = createHerd()
    let calls = 0
    const loader = async (ctx: { setTtl(t: number): void }) => {
      calls++
      ctx.setTtl(0)
      await advance(10)
      return 'uncacheable'
    }
    const results = await settle(Promise.all(Array.from({ length: 5 }, () => herd.fetch('k', loader))))
    expect(results).toEqual(Array(5).fill('uncacheable'))
    expect(calls).toBe(1)
    await settle(herd.fetch('k', loader))
    expect(calls).toBe(2)
  })

  it('an invalid setTtl() fails the call with a HerdArgumentError', async () => {
    herd = createHerd({ staleIfError: '1h' })
    await expect(
      settle(
        herd.fetch('k', (ctx) => {
          ctx.setTtl(-1)
          return 1
        }),
      ),
    ).rejects.toThrow(/setTtl/)
  })
})

describe('per-call options', () => {
  it('a frozen options object applies like any other; a mutable one is read afresh each call', async () => {
    const store = new MapStore()
    herd = createHerd({ store, local: false, jitter: 0 })
    const frozen = Object.freeze({ ttl: '10s' })
    await settle(herd.fetch('a', countingLoader(1), frozen))
    await settle(herd.fetch('b', countingLoader(1), frozen))
    const mutable: { ttl: string } = { ttl: '10s' }
    await settle(herd.fetch('c', countingLoader(1), mutable))
    mutable.ttl = '20s'
    await settle(herd.fetch('d', countingLoader(1), mutable))
    const ttlOf = (k: string) => store.entries.get(k)!.entry.freshUntil - store.entries.get(k)!.entry.createdAt
    expect([ttlOf('a'), ttlOf('b'), ttlOf('c'), ttlOf('d')]).toEqual([10_000, 10_000, 10_000, 20_000])
    await expect(settle(herd.fetch('e', countingLoader(1), Object.freeze({ ttl: -1 })))).rejects.toThrow(/ttl/)
  })

  it('override the herd defaults for that entry only', async () => {
    const store = new MapStore()
    herd = createHerd({ store, ttl: '5m', staleWhileRevalidate: '1m', jitter: 0 })
    await settle(herd.fetch('a', countingLoader(1)))
    await settle(herd.fetch('b', countingLoader(2), { ttl: '10s', staleWhileRevalidate: 0, staleIfError: '1h' }))
    const a = store.entries.get('a')!.entry
    const b = store.entries.get('b')!.entry
    expect(a.freshUntil - a.createdAt).toBe(300_000)
    expect(a.staleUntil - a.freshUntil).toBe(60_000)
    expect(b.freshUntil - b.createdAt).toBe(10_000)
    expect(b.staleUntil).toBe(b.freshUntil)
    expect(b.errorUntil - b.freshUntil).toBe(3_600_000)
  })
})
