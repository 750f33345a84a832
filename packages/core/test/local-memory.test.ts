import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { createHerd } from '../src/index.js'
import { trackHerds } from './support/herds.js'
import { MapStore } from './support/map-store.js'

const track = trackHerds()

describe('local tier memory', () => {
  it("maxBytes '8mb': 100,000 values of 1-64 KB keep the local tier (and the heap) under 8 MB", async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const herd = track(createHerd({ local: { maxSize: 1_000_000, maxBytes: '8mb' } }))
    gc()
    const before = process.memoryUsage().heapUsed
    let peak = 0
    for (let i = 0; i < 100_000; i++) {
      await herd.set(`k${i}`, 'x'.repeat(1_024 * (1 + (i % 64))))
      if (i % 1_000 === 0) peak = Math.max(peak, herd.stats().local.bytes)
    }
    gc()
    const grown = process.memoryUsage().heapUsed - before
    expect(herd.stats().local.bytes).toBeLessThanOrEqual(8 * 1024 * 1024)
    expect(peak).toBeLessThanOrEqual(8 * 1024 * 1024)
    // The values are strings of one-byte characters (the estimate counts two per character): what is held fits.
    expect(grown).toBeLessThan(12 * 1024 * 1024)
    await expect(herd.get('k99999')).resolves.toHaveLength(1_024 * (1 + (99_999 % 64)))
    await expect(herd.get('k0')).resolves.toBeUndefined()
  }, 120_000)

  it('the bytes held are counted exactly while keys move through the LRU: a key set again is not evicted with its old value', async () => {
    const one = track(createHerd({ local: { maxSize: 2 } }))
    await one.set('a', 'x'.repeat(100))
    const perEntry = one.stats().local.bytes
    const herd = track(createHerd({ local: { maxSize: 2 } }))
    for (const key of ['a', 'b', 'a', 'c', 'a', 'd', 'b', 'a', 'c']) {
      await herd.set(key, 'x'.repeat(100))
      const { size, bytes } = herd.stats().local
      expect(size).toBeLessThanOrEqual(2)
      expect(bytes).toBe(size * perEntry)
    }
  })

  it('maxEntryBytes: a larger entry lives in the Store only', async () => {
    const herd = track(createHerd({ store: new MapStore(), local: { maxEntryBytes: '4kb' } }))
    await herd.set('small', 'x'.repeat(100))
    await herd.set('big', 'x'.repeat(10_000))
    expect((await herd.inspect('small')).local).toBeDefined()
    expect((await herd.inspect('big')).local).toBeUndefined()
    await expect(herd.get('big')).resolves.toHaveLength(10_000)
    expect(herd.stats().local.size).toBe(1)
  })

  it('values handed out from the local tier are frozen: one caller cannot change what the next gets', async () => {
    const herd = track(createHerd())
    await herd.set('k', { user: { name: 'Ada', roles: ['admin'] } })
    const got = (await herd.get('k')) as { user: { name: string; roles: string[] } }
    expect(() => {
      got.user.name = 'Eve'
    }).toThrow(TypeError)
    expect(() => got.user.roles.push('root')).toThrow(TypeError)
    await expect(herd.get('k')).resolves.toEqual({ user: { name: 'Ada', roles: ['admin'] } })
    const loose = track(createHerd({ local: { freeze: false } }))
    await loose.set('k', { n: 1 })
    const mutable = (await loose.get('k')) as { n: number }
    mutable.n = 2
    await expect(loose.get('k')).resolves.toEqual({ n: 2 })
  })

  it('rejects bad sizes', () => {
    expect(() => createHerd({ local: { maxBytes: 'lots' } })).toThrow(/local.maxBytes/)
    expect(() => createHerd({ local: { maxBytes: 0 } })).toThrow(/local.maxBytes/)
    expect(() => createHerd({ local: { freeze: 'no' as never } })).toThrow(/local.freeze/)
    expect(() => createHerd({ local: { maxsize: 1 } as never })).toThrow(/unknown option "local.maxsize"/)
  })
})
