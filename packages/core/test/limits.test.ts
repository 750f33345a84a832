import { afterEach, describe, expect, it } from 'vitest'
import { HerdArgumentError, createHerd, type Herd } from '../src/index.js'
import { advance, settle, useFakeClock } from './support/clock.js'
import { countingLoader } from './support/helpers.js'
import { MapLock } from './support/map-lock.js'
import { MapStore } from './support/map-store.js'

useFakeClock()
let herd: Herd
afterEach(() => herd?.close())

const MONTH = 30 * 86_400_000

describe('durations past 2^31 ms (24.8 days)', () => {
  it("hardTimeout: '30d' bounds a load at 30 days, not at 1 ms", async () => {
    herd = createHerd({ hardTimeout: '30d' })
    await expect(settle(herd.fetch('k', countingLoader('v', 1_000)))).resolves.toBe('v')
  })

  it("keepFresh every '30d' refreshes once a month, not every millisecond", async () => {
    herd = createHerd({ ttl: '60d' })
    const loader = countingLoader((n: number) => n)
    const stop = herd.keepFresh('k', loader, { every: '30d' })
    await advance(600)
    expect(loader.calls).toBe(1)
    await advance(MONTH)
    expect(loader.calls).toBe(2)
    stop()
  })

  it("operationTimeout: '30d' still bounds a hung Store (after 30 days) and never fires early", async () => {
    const store = new MapStore()
    herd = createHerd({ store, local: false, operationTimeout: '30d', hardTimeout: '90d', breaker: false })
    store.mode = 'hang'
    const fetched = herd.fetch('k', countingLoader('v'))
    let done = false
    void fetched.finally(() => (done = true))
    await advance(1_000)
    expect(done).toBe(false)
    await advance(MONTH * 2.2) // the read, then the write, each bounded at 30 days
    await expect(fetched).resolves.toBe('v')
  })

  it("lease '30d' is renewed every 10 days, not in a tight loop", async () => {
    const lock = new MapLock()
    herd = createHerd({ lock, lease: '30d', hardTimeout: '60d' })
    const fetched = herd.fetch('k', countingLoader('v', 19 * 86_400_000))
    await advance(1_000)
    expect(lock.calls.extend).toBe(0)
    await advance(19 * 86_400_000)
    await expect(fetched).resolves.toBe('v')
    expect(lock.calls.extend).toBe(1)
  })
})

describe('durations past what a backend can keep', () => {
  it.each([1e20, 2 ** 53, '36526d'])('%j is rejected at the call, for every duration option', async (duration) => {
    herd = createHerd()
    const loader = countingLoader('v')
    for (const option of ['ttl', 'staleWhileRevalidate', 'staleIfError', 'negativeTtl', 'hardTimeout', 'softTimeout'] as const) {
      await expect(herd.fetch('k', loader, { [option]: duration })).rejects.toThrow(HerdArgumentError)
      expect(() => createHerd({ [option]: duration })).toThrow(new RegExp(`${option} must be at most 100 years`))
    }
    for (const option of ['lease', 'errorBackoff', 'operationTimeout'] as const) {
      expect(() => createHerd({ [option]: duration })).toThrow(HerdArgumentError)
    }
    await expect(herd.set('k', 1, { ttl: duration })).rejects.toThrow(HerdArgumentError)
    expect(loader.calls).toBe(0)
  })

  it("'36525d' (100 years) is accepted and cached", async () => {
    const store = new MapStore()
    herd = createHerd({ store, ttl: '36525d', jitter: 0 })
    await herd.fetch('k', countingLoader('v'))
    const { entry } = store.entries.get('k')!
    expect(entry.freshUntil - entry.createdAt).toBe(36_525 * 86_400_000)
    expect(Number.isSafeInteger(entry.errorUntil)).toBe(true)
  })
})

describe('options', () => {
  it('an unknown per-call option is rejected like an unknown createHerd option', async () => {
    herd = createHerd()
    const loader = countingLoader('v')
    await expect(herd.fetch('k', loader, { swr: '1m' } as never)).rejects.toThrow(/unknown option "swr" in fetch\(\)/)
    await expect(herd.fetchEntry('k', loader, { staleWhileRevalidation: '1m' } as never)).rejects.toThrow(/unknown option "staleWhileRevalidation"/)
    await expect(herd.set('k', 1, { tll: '1m' } as never)).rejects.toThrow(/unknown option "tll" in set\(\)/)
    expect(() => herd.keepFresh('k', loader, { evry: '1m' } as never)).toThrow(/unknown option "evry"/)
    await expect(herd.warm(['k'], loader, { concurency: 2 } as never)).rejects.toThrow(/unknown option "concurency" in warm\(\)/)
    expect(loader.calls).toBe(0)
  })
})
