import { afterEach, describe, expect, it } from 'vitest'
import { createHerd, type Herd } from '../src/index.js'
import { advance, settle, useFakeClock } from './support/clock.js'
import { countingLoader } from './support/helpers.js'
import { MapStore } from './support/map-store.js'

useFakeClock()
let herd: Herd
afterEach(() => herd?.close())

describe('fetchEntry() says how each caller was answered', () => {
  it('miss for the caller that waited for the load and for those that joined it; hit afterwards', async () => {
    herd = createHerd({ jitter: 0 })
    const loader = countingLoader('v', 20)
    const before = Date.now()
    const [a, b] = await settle(Promise.all([herd.fetchEntry('k', loader), herd.fetchEntry('k', loader)]))
    expect(a).toEqual({ value: 'v', status: 'miss', createdAt: expect.any(Number) })
    expect(b!.status).toBe('miss')
    expect(a!.createdAt).toBeGreaterThanOrEqual(before)
    const hit = await herd.fetchEntry('k', loader)
    expect(hit.status).toBe('hit')
    expect(loader.calls).toBe(1)
  })

  it('stale inside the stale window, from the local tier and from the Store, with the original createdAt', async () => {
    herd = createHerd({ store: new MapStore(), local: false, ttl: 150, jitter: 0, beta: 0, staleWhileRevalidate: '1m' })
    const loader = countingLoader((n: number) => n, 30)
    const first = await settle(herd.fetchEntry('k', loader))
    await advance(160)
    const stale = await settle(herd.fetchEntry('k', loader))
    expect(stale).toEqual({ value: 1, status: 'stale', createdAt: first.createdAt })
    await advance(50)
    await expect(settle(herd.fetchEntry('k', loader))).resolves.toMatchObject({ value: 2, status: 'hit' })
  })

  it('stale when a stale-if-error value stands in for a failed loader', async () => {
    herd = createHerd({ ttl: 10, jitter: 0, beta: 0, staleIfError: '1m' })
    await settle(herd.fetch('k', async () => 'old'))
    await advance(20)
    await expect(
      settle(
        herd.fetchEntry('k', async () => {
          throw new Error('down')
        }),
      ),
    ).resolves.toMatchObject({ value: 'old', status: 'stale' })
  })
})

describe('ctx.setOptions()', () => {
  it('sets ttl and the stale windows of the entry this load writes', async () => {
    const store = new MapStore()
    herd = createHerd({ store, ttl: '1h', staleWhileRevalidate: '1h', staleIfError: '1h', jitter: 0 })
    await herd.fetch('k', (ctx) => {
      ctx.setOptions({ ttl: '10s', staleWhileRevalidate: 0, staleIfError: '1m' })
      return 1
    })
    const { entry } = store.entries.get('k')!
    expect(entry.freshUntil - entry.createdAt).toBe(10_000)
    expect(entry.staleUntil).toBe(entry.freshUntil)
    expect(entry.errorUntil - entry.freshUntil).toBe(60_000)
  })

  it('rejects bad values with a HerdArgumentError at the call', async () => {
    herd = createHerd()
    await expect(
      settle(
        herd.fetch('k', (ctx) => {
          ctx.setOptions({ staleWhileRevalidate: 'soon' })
          return 1
        }),
      ),
    ).rejects.toThrow(/staleWhileRevalidate/)
    await expect(
      settle(
        herd.fetch('k2', (ctx) => {
          ctx.setOptions(null as never)
          return 1
        }),
      ),
    ).rejects.toThrow(/setOptions/)
  })
})
