import { describe, expect, it } from 'vitest'
import { HerdArgumentError, toMs } from '../src/index.js'

describe('durations', () => {
  it.each([
    [250, 250],
    [0, 0],
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    [' 2 s ', 2_000],
  ])('%j is %i ms', (input, ms) => {
    expect(toMs(input, 'ttl')).toBe(ms)
  })

  it.each([Number.NaN, -1, Infinity, -Infinity, '', '10', 'ten seconds', '-5s', '5 weeks', null, undefined, {}, [], true])(
    '%j is rejected with a HerdArgumentError naming the option',
    (input) => {
      expect(() => toMs(input as never, 'staleWhileRevalidate')).toThrow(HerdArgumentError)
      expect(() => toMs(input as never, 'staleWhileRevalidate')).toThrow(/staleWhileRevalidate/)
    },
  )
})
