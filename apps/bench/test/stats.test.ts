import { describe, expect, it } from 'vitest'
import { median, pairedRatio, pairedSlowdown } from '../src/lib/stats.js'

describe('pairedSlowdown', () => {
  it("is the median of each round's ratio, not the ratio of two medians taken from different rounds", () => {
    // ops/s per round. `cache` is half as fast as `floor` in three rounds of five; in the two others the machine
    // slowed down for its sample only.
    const samples = { floor: [300, 100, 150, 300, 300], cache: [150, 50, 75, 50, 50] }
    expect(pairedSlowdown(samples, 'cache', 'floor')).toBe(2)
    expect(median(samples.floor) / median(samples.cache)).toBe(6)
  })
})

describe('pairedRatio', () => {
  it('divides round by round and takes the median', () => {
    expect(pairedRatio([30, 40, 90], [10, 40, 30])).toBe(3)
  })
})
