import { describe, expect, it } from 'vitest'
import { MissOdds } from '../src/policies/miss-odds.js'

/** When a herd reads with a fused Lock's readOrAcquire (the read that takes the lease) instead of Store.get. */
describe('MissOdds', () => {
  it('a fresh process expects misses', () => {
    expect(new MissOdds().likely()).toBe(true)
  })

  it('six hits in a row turn it (about the last eight reads count), and it stays turned while reads hit', () => {
    const odds = new MissOdds()
    const turned: boolean[] = []
    for (let i = 0; i < 10; i++) {
      odds.record(false)
      turned.push(odds.likely())
    }
    expect(turned).toEqual([true, true, true, true, true, false, false, false, false, false])
  })

  it('a lone miss among hits does not turn it back; five in a row do', () => {
    const odds = new MissOdds()
    for (let i = 0; i < 20; i++) odds.record(false)
    odds.record(true)
    expect(odds.likely()).toBe(false)
    for (let i = 0; i < 3; i++) odds.record(true)
    expect(odds.likely()).toBe(false)
    odds.record(true)
    expect(odds.likely()).toBe(true)
  })
})
