import { HerdArgumentError, type StoredEntry } from '@herd/core'
import { describe, expect, it } from 'vitest'
import { memoryStore } from '../src/index.js'

const entry = (fence = 1): StoredEntry => ({
  value: 'v',
  fence,
  createdAt: 0,
  freshUntil: 1,
  staleUntil: 2,
  errorUntil: 3,
  loadMs: 4,
})

describe('memoryStore', () => {
  it('stays bounded by maxSize under a million distinct keys', async () => {
    const store = memoryStore({ maxSize: 1000 })
    // Not a multiple of maxSize: a two-generation LRU that held up to twice the bound (quick-lru) would hold 1,500 here.
    for (let i = 0; i < 1_000_500; i++) {
      await store.set(`key:${i}`, entry(), 60_000)
      if (i % 100_000 === 0) expect(store.size).toBeLessThanOrEqual(1000)
    }
    expect(store.size).toBeLessThanOrEqual(1000)
    expect(store.size).toBeGreaterThan(0)
    // What is held, counted by reading it back (not by `size`): of the last 2,000 keys written, at most 1,000.
    const last = Array.from({ length: 2_000 }, (_, i) => `key:${998_500 + i}`)
    const held = (await store.getMany(last)).filter((entry) => entry !== undefined).length
    expect(held).toBeLessThanOrEqual(1000)
    expect(held).toBe(store.size)
    expect(await store.get('key:1000499')).toBeDefined()
    expect(await store.get('key:0')).toBeUndefined()
  })

  it('evicts the least recently used: a key read since survives a burst of new keys', async () => {
    const store = memoryStore({ maxSize: 100 })
    for (let i = 0; i < 100; i++) await store.set(`old:${i}`, entry(), 60_000)
    await store.get('old:0')
    // 99 new keys: the 100 most recently used are old:0 and them.
    for (let i = 0; i < 99; i++) await store.set(`new:${i}`, entry(), 60_000)
    expect(await store.get('old:0')).toBeDefined()
    expect(await store.get('old:1')).toBeUndefined()
  })

  it('close() clears every entry', async () => {
    const store = memoryStore()
    await store.set('a', entry(), 60_000)
    await store.set('b', entry(), 60_000)
    await store.close()
    expect(store.size).toBe(0)
    expect(await store.getMany(['a', 'b'])).toEqual([undefined, undefined])
  })

  it('rejects a maxSize that is not a whole number >= 1', () => {
    for (const maxSize of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => memoryStore({ maxSize })).toThrow(HerdArgumentError)
    }
  })

  describe('rejects bad arguments with a HerdArgumentError and changes nothing', () => {
    const store = memoryStore()
    const bad = (value: unknown) => value as never
    it.each([
      ['get with an empty key', () => store.get('')],
      ['get with a non-string key', () => store.get(bad(1))],
      ['getMany with a non-array', () => store.getMany(bad('a'))],
      ['getMany with an empty key', () => store.getMany(['a', ''])],
      ['delete with an empty key', () => store.delete('')],
      ['expire with a non-finite time', () => store.expire('k', Number.NaN)],
      ['set with a negative ttl', () => store.set('k', entry(), -1)],
      ['set with a NaN ttl', () => store.set('k', entry(), Number.NaN)],
      ['set with an infinite ttl', () => store.set('k', entry(), Number.POSITIVE_INFINITY)],
      ['set with a string ttl', () => store.set('k', entry(), bad('5s'))],
      ['set with no entry', () => store.set('k', bad(undefined), 1000)],
      ['set with a non-string value', () => store.set('k', { ...entry(), value: bad(1) }, 1000)],
      ['set with a NaN fence', () => store.set('k', { ...entry(), fence: Number.NaN }, 1000)],
      ['set with an infinite freshUntil', () => store.set('k', { ...entry(), freshUntil: Number.POSITIVE_INFINITY }, 1000)],
      ['set with a non-boolean negative', () => store.set('k', { ...entry(), negative: bad('yes') }, 1000)],
    ])('%s', async (_label, call) => {
      await expect(call()).rejects.toBeInstanceOf(HerdArgumentError)
      expect(await store.get('k')).toBeUndefined()
    })
  })
})
