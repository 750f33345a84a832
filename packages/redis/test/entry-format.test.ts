import { HerdDecodeError, type StoredEntry } from '@herd/core'
import { describe, expect, it } from 'vitest'
import { decodeEntry, encodeEntry } from '../src/entry-format.js'

/** What the head's eight numbers decode to, as `Number` of each comma-separated field reads them (the reference). */
function reference(head: string[]): number[] {
  return head.map(Number)
}

describe('entry format', () => {
  const entry: StoredEntry = {
    value: '0{"id":7,"note":"a, b"}',
    fence: 1_764_403_200_123_456,
    createdAt: 1_764_403_200_123,
    freshUntil: 1_764_403_260_123,
    staleUntil: 1_764_403_320_123,
    errorUntil: 1_764_403_380_123,
    loadMs: 12.375,
  }

  it('round-trips an entry: fence, times, a fractional load time, negative, tags with commas, a value with commas', () => {
    expect(decodeEntry(encodeEntry(entry), 'k')).toEqual(entry)
    const tagged = { ...entry, negative: true, tags: ['a,b', 'c'] }
    expect(decodeEntry(encodeEntry(tagged), 'k')).toEqual(tagged)
    const zero = { ...entry, fence: 0, loadMs: 0 }
    expect(decodeEntry(encodeEntry(zero), 'k')).toEqual(zero)
  })

  it('reads every head field exactly as Number() would, whole numbers or not', () => {
    const fields = ['', ' 5', '1.5', '-3', '1e3', '0x10', '007', '9007199254740991', '9007199254740993', '9999999999999999', '12345678901234567']
    for (const field of fields) {
      const head = [field, '1', '2', '3', '4', '5', '0', '0']
      const decoded = decodeEntry(`${head.join(',')},v`, 'k')
      expect([decoded.fence, decoded.createdAt, decoded.freshUntil, decoded.staleUntil, decoded.errorUntil, decoded.loadMs], field).toEqual(
        reference(head).slice(0, 6),
      )
    }
  })

  it('refuses what is not an entry with HerdDecodeError naming the key', () => {
    for (const raw of ['', 'plain text', '1,2,3', '1,2,3,4,5,6,0', 'x,1,2,3,4,5,0,0,v', '1,2,3,4,5,6,0,abc,v']) {
      expect(() => decodeEntry(raw, 'the-key'), raw).toThrow(HerdDecodeError)
      expect(() => decodeEntry(raw, 'the-key'), raw).toThrow(/"the-key"/)
    }
  })
})
