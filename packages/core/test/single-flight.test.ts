import { afterEach, describe, expect, it } from 'vitest'
import { createHerd, type Herd } from '../src/index.js'
import { advance, flush, settle, useFakeClock } from './support/clock.js'
import { countingLoader, gate, sleep } from './support/helpers.js'

useFakeClock()
let herd: Herd
afterEach(() => herd?.close())

describe('in-process single flight', () => {
  it('1,000 concurrent fetches of a cold key run a 50 ms loader once and all get its value', async () => {
    herd = createHerd()
    const loader = countingLoader({ id: 1, name: 'Ada' }, 50)
    const results = await settle(Promise.all(Array.from({ length: 1000 }, () => herd.fetch('user:1', loader))))
    expect(loader.calls).toBe(1)
    expect(results).toHaveLength(1000)
    for (const value of results) expect(value).toEqual({ id: 1, name: 'Ada' })
    const stats = herd.stats()
    expect(stats.misses).toBe(1)
    expect(stats.coalesced).toBe(999)
    expect(stats.loads).toBe(1)
  })

  it('gives every concurrent caller the same error, then loads again on the next call', async () => {
    herd = createHerd()
    const boom = new Error('database down')
    let calls = 0
    const loader = async () => {
      calls++
      await sleep(20)
      throw boom
    }
    const results = await settle(Promise.allSettled(Array.from({ length: 50 }, () => herd.fetch('k', loader))))
    expect(calls).toBe(1)
    for (const r of results) expect(r).toEqual({ status: 'rejected', reason: boom })
    await advance(1_100) // past the default errorBackoff; no stale value to stand in anyway
    await expect(settle(herd.fetch('k', loader))).rejects.toBe(boom)
    expect(calls).toBe(2)
  })

  it('different keys load independently', async () => {
    herd = createHerd()
    const loader = countingLoader((n: number) => n, 10)
    const [a, b] = await settle(Promise.all([herd.fetch('a', loader), herd.fetch('b', loader)]))
    expect(loader.calls).toBe(2)
    expect(new Set([a, b])).toEqual(new Set([1, 2]))
  })

  it('a caller that aborts stops waiting without cancelling the load for the others', async () => {
    herd = createHerd()
    let loaderSignal: AbortSignal | undefined
    const loader = async ({ signal }: { signal: AbortSignal }) => {
      loaderSignal = signal
      await sleep(60)
      return 'value'
    }
    const leaving = new AbortController()
    const first = herd.fetch('k', loader, { signal: leaving.signal })
    const second = herd.fetch('k', loader)
    const third = herd.fetch('k', loader, { signal: new AbortController().signal })
    await advance(10)
    leaving.abort(new Error('client went away'))
    await expect(first).rejects.toThrow('client went away')
    expect(loaderSignal?.aborted).toBe(false)
    await expect(settle(second)).resolves.toBe('value')
    await expect(third).resolves.toBe('value')
    expect(loaderSignal?.aborted).toBe(false)
  })

  it("aborts the loader's signal only when every waiter has gone", async () => {
    herd = createHerd()
    let loaderSignal: AbortSignal | undefined
    const loader = ({ signal }: { signal: AbortSignal }) =>
      new Promise<string>((resolve, reject) => {
        loaderSignal = signal
        signal.addEventListener('abort', () => reject(signal.reason))
        setTimeout(() => resolve('late'), 500)
      })
    const a = new AbortController()
    const b = new AbortController()
    const pa = herd.fetch('k', loader, { signal: a.signal })
    const pb = herd.fetch('k', loader, { signal: b.signal })
    await advance(5)
    a.abort()
    await expect(pa).rejects.toBeDefined()
    expect(loaderSignal?.aborted).toBe(false)
    b.abort()
    await expect(pb).rejects.toBeDefined()
    expect(loaderSignal?.aborted).toBe(true)
  })

  it('a caller whose signal is already aborted is rejected at once', async () => {
    herd = createHerd()
    const loader = countingLoader('v', 20)
    const aborted = AbortSignal.abort(new Error('already gone'))
    await expect(herd.fetch('k', loader, { signal: aborted })).rejects.toThrow('already gone')
  })
})

describe('stale-while-revalidate', () => {
  it('1,000 concurrent fetches of a stale key all get the stale value without waiting; one refresh runs', async () => {
    herd = createHerd({ ttl: 100, jitter: 0, staleWhileRevalidate: '10s', beta: 0 })
    let calls = 0
    const refreshGate = gate()
    const loader = async () => {
      calls++
      if (calls > 1) await refreshGate.promise // the refresh can't finish until the test says so
      return { version: calls }
    }
    await herd.fetch('hot', loader)
    await advance(120) // now stale, inside the window
    const refreshed: unknown[] = []
    herd.on('refresh', (e) => refreshed.push(e))
    // Every caller answers while the refresh is still blocked: nobody waited for it.
    const results = await Promise.all(Array.from({ length: 1000 }, () => herd.fetch('hot', loader)))
    await flush()
    expect(calls).toBe(2)
    expect(refreshed).toHaveLength(0)
    for (const value of results) expect(value).toEqual({ version: 1 })
    refreshGate.open()
    await flush()
    expect(refreshed).toEqual([expect.objectContaining({ key: 'hot', ok: true, reason: 'stale' })])
    await expect(herd.fetch('hot', loader)).resolves.toEqual({ version: 2 })
    expect(calls).toBe(2)
    expect(herd.stats().stale.revalidate).toBe(1000)
    expect(herd.stats().refreshes).toBe(1)
  })

  it('past the stale window a read waits for the load', async () => {
    herd = createHerd({ ttl: 30, jitter: 0, staleWhileRevalidate: 30, beta: 0 })
    const loader = countingLoader((call: number) => call, 20)
    await settle(herd.fetch('k', loader))
    await advance(80)
    await expect(settle(herd.fetch('k', loader))).resolves.toBe(2)
  })
})
