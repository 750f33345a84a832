import { describe, expect, it } from 'vitest'
import { HerdArgumentError, Lru } from '../src/index.js'

function tracked(maxSize: number) {
  const evicted: Array<[string, number]> = []
  const lru = new Lru<string, number>(maxSize, (key, value) => evicted.push([key, value]))
  return { lru, evicted }
}

describe("the local tier's LRU", () => {
  it('never holds more than maxSize keys, whatever the mix of sets and reads', () => {
    for (const maxSize of [1, 2, 3, 7]) {
      const { lru, evicted } = tracked(maxSize)
      const held = new Map<string, number>()
      for (let i = 0; i < 200; i++) {
        const key = `k${(i * 7919) % 13}`
        if (i % 3 === 0) lru.get(key)
        else {
          lru.set(key, i)
          held.set(key, i)
        }
        expect(lru.size).toBeLessThanOrEqual(maxSize)
      }
      // Every key set is either held (with its last value) or was reported evicted.
      for (const [key, value] of held) {
        if (lru.peek(key) === undefined) expect(evicted.some(([k]) => k === key)).toBe(true)
        else expect(lru.peek(key)).toBe(value)
      }
      expect([...lru.entriesAscending()]).toHaveLength(lru.size)
    }
  })

  it('evicts the least recently used key: a read keeps a key', () => {
    const { lru, evicted } = tracked(3)
    lru.set('a', 1)
    lru.set('b', 2)
    lru.set('c', 3) // full: a, b, c become the old generation
    expect(lru.get('a')).toBe(1) // a is used again
    lru.set('d', 4) // one too many: the oldest not used since goes
    expect(evicted).toEqual([['b', 2]])
    expect(lru.peek('a')).toBe(1)
    expect(lru.peek('b')).toBeUndefined()
    expect([...lru.entriesAscending()].map(([key]) => key)).toEqual(['c', 'a', 'd'])
  })

  it('a key set again is evicted once, with its new value', () => {
    const { lru, evicted } = tracked(2)
    lru.set('a', 1)
    lru.set('b', 2) // full: a, b old
    lru.set('a', 10) // a moves to the young generation with its new value
    lru.set('c', 3) // b goes
    lru.set('d', 4) // a (now oldest) goes, once, with 10
    lru.set('e', 5)
    expect(evicted).toEqual([
      ['b', 2],
      ['a', 10],
      ['c', 3],
    ])
  })

  it('peek does not count as a use; delete and clear forget keys without reporting them evicted', () => {
    const { lru, evicted } = tracked(2)
    lru.set('a', 1)
    lru.set('b', 2)
    expect(lru.peek('a')).toBe(1)
    lru.set('c', 3)
    expect(evicted).toEqual([['a', 1]])
    expect(lru.delete('b')).toBe(true)
    expect(lru.delete('b')).toBe(false)
    lru.clear()
    expect(lru.size).toBe(0)
    expect(lru.get('c')).toBeUndefined()
    expect(evicted).toEqual([['a', 1]])
  })

  it('rejects a maxSize that is not a whole number >= 1, and evicts silently without a listener', () => {
    for (const maxSize of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new Lru(maxSize)).toThrow(HerdArgumentError)
    const lru = new Lru<string, number>(1)
    lru.set('a', 1)
    lru.set('b', 2)
    expect(lru.size).toBe(1)
    expect(lru.peek('b')).toBe(2)
  })
})
