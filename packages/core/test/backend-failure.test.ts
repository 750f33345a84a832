import { afterEach, describe, expect, it } from 'vitest'
import { type BreakerState, createHerd, type Herd } from '../src/index.js'
import { advance, settle, useFakeClock } from './support/clock.js'
import { countingLoader } from './support/helpers.js'
import { MapStore } from './support/map-store.js'

useFakeClock()
let herd: Herd
afterEach(() => herd?.close())

describe('circuit breaker around the Store', () => {
  it('a failing Store costs latency, never an error; the breaker opens, probes and closes on its own', async () => {
    const store = new MapStore()
    herd = createHerd({ store, local: false, breaker: { threshold: 3, resetAfter: 100 } })
    const transitions: Array<[BreakerState, BreakerState]> = []
    herd.on('breaker', ({ from, to }) => transitions.push([from, to]))
    const loader = countingLoader((n: number) => n)
    store.mode = 'fail'
    for (let i = 0; i < 10; i++) await expect(settle(herd.fetch('k', loader))).resolves.toBeTypeOf('number')
    expect(transitions).toEqual([['closed', 'open']])
    expect(herd.stats().breaker).toEqual({ state: 'open', opens: 1 })
    // while open the Store isn't touched at all
    const callsWhileOpen = store.calls
    await settle(herd.fetch('k', loader))
    expect(store.calls).toBe(callsWhileOpen)
    store.mode = 'ok'
    await advance(120)
    await settle(herd.fetch('k', loader))
    expect(transitions).toEqual([
      ['closed', 'open'],
      ['open', 'half-open'],
      ['half-open', 'closed'],
    ])
    // recovered: values are cached in the Store again
    await settle(herd.fetch('k2', loader))
    expect(store.entries.has('k2')).toBe(true)
    expect(herd.stats().fallbacks).toBeGreaterThan(0)
  })

  it('a failed probe re-opens the breaker', async () => {
    const store = new MapStore()
    herd = createHerd({ store, local: false, breaker: { threshold: 1, resetAfter: 50 } })
    const states: BreakerState[] = []
    herd.on('breaker', ({ to }) => states.push(to))
    store.mode = 'fail'
    await settle(herd.fetch('k', countingLoader(1)))
    await advance(60)
    await settle(herd.fetch('k', countingLoader(1)))
    expect(states).toEqual(['open', 'half-open', 'open'])
  })

  it('a hung Store is bounded by operationTimeout and counts as a failure', async () => {
    const store = new MapStore()
    herd = createHerd({ store, local: false, operationTimeout: 30, breaker: { threshold: 2, resetAfter: '1m' } })
    const errors: string[] = []
    herd.on('error', (e) => errors.push(e.source))
    store.mode = 'hang'
    const loader = countingLoader('v')
    await expect(settle(herd.fetch('k', loader))).resolves.toBe('v')
    await expect(settle(herd.fetch('k', loader))).resolves.toBe('v')
    expect(errors.filter((s) => s === 'store').length).toBeGreaterThanOrEqual(2)
    expect(herd.stats().breaker.state).toBe('open')
  })

  it('loads stay single-flighted while the Store is down', async () => {
    const store = new MapStore()
    store.mode = 'fail'
    herd = createHerd({ store, local: false })
    const loader = countingLoader('v', 30)
    const results = await settle(Promise.all(Array.from({ length: 100 }, () => herd.fetch('k', loader))))
    expect(results.every((v) => v === 'v')).toBe(true)
    expect(loader.calls).toBe(1)
  })

  it('set/expire/delete keep working locally while the Store is down', async () => {
    const store = new MapStore()
    herd = createHerd({ store })
    store.mode = 'fail'
    await expect(herd.set('k', 1)).resolves.toBeUndefined()
    await expect(herd.get('k')).resolves.toBe(1)
    await expect(herd.expire('k')).resolves.toBeUndefined()
    await expect(herd.delete('k')).resolves.toBeUndefined()
    await expect(herd.get('k')).resolves.toBeUndefined()
  })
})
