import { afterEach, describe, expect, it } from 'vitest'
import { HerdArgumentError, createHerd, type Herd } from '../src/index.js'
import { advance, settle, useFakeClock } from './support/clock.js'
import { countingLoader, sleep } from './support/helpers.js'

useFakeClock()
let herd: Herd
afterEach(() => herd?.close())

describe('bulkhead', () => {
  it('maxConcurrentLoads bounds loader runs in this process; the rest queue and all complete', async () => {
    herd = createHerd({ maxConcurrentLoads: 2 })
    let running = 0
    let peak = 0
    const loader = async (ctx: { key: string }) => {
      running++
      peak = Math.max(peak, running)
      await sleep(15)
      running--
      return ctx.key
    }
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`)
    const results = await settle(Promise.all(keys.map((k) => herd.fetch(k, loader))))
    expect(results).toEqual(keys)
    expect(peak).toBe(2)
  })

  it('a caller that leaves while queued frees its place', async () => {
    herd = createHerd({ maxConcurrentLoads: 1 })
    const blocker = herd.fetch('a', countingLoader('a', 40))
    const leaving = new AbortController()
    const queued = herd.fetch('b', countingLoader('b'), { signal: leaving.signal })
    leaving.abort(new Error('left'))
    await expect(queued).rejects.toThrow('left')
    await settle(blocker)
    await expect(herd.fetch('c', countingLoader('c'))).resolves.toBe('c')
  })
})

describe('warm()', () => {
  it('fills every key before traffic arrives, with bounded concurrency, and reports failures', async () => {
    herd = createHerd()
    let running = 0
    let peak = 0
    const loader = async ({ key }: { key: string }) => {
      running++
      peak = Math.max(peak, running)
      await sleep(5)
      running--
      if (key === 'bad') throw new Error('no such row')
      return key.toUpperCase()
    }
    const keys = ['a', 'b', 'c', 'bad', 'd', 'e', 'f']
    const result = await settle(herd.warm(keys, loader, { concurrency: 3 }))
    expect(result.loaded).toBe(6)
    expect(result.failed).toEqual([{ key: 'bad', error: expect.objectContaining({ message: 'no such row' }) }])
    expect(peak).toBeLessThanOrEqual(3)
    const after = countingLoader('x')
    await expect(herd.fetch('e', after)).resolves.toBe('E')
    expect(after.calls).toBe(0)
  })

  it('rejects bad input', async () => {
    herd = createHerd()
    await expect(herd.warm('a' as never, countingLoader(1))).rejects.toThrow(HerdArgumentError)
    await expect(herd.warm(['a', ''], countingLoader(1))).rejects.toThrow(HerdArgumentError)
    await expect(herd.warm(['a'], countingLoader(1), { concurrency: 0 })).rejects.toThrow(/concurrency/)
  })
})

describe('keepFresh()', () => {
  it('refreshes a hot key on a schedule so readers never see it expire, until stopped', async () => {
    herd = createHerd({ ttl: 100, jitter: 0, beta: 0 })
    const loader = countingLoader((n: number) => n, 5)
    const stop = herd.keepFresh('hot', loader, { every: 40 })
    await advance(20)
    const reader = countingLoader(-1)
    // for three ttl periods every read is a hit
    for (let i = 0; i < 30; i++) {
      await expect(herd.fetch('hot', reader)).resolves.toBeGreaterThan(0)
      await advance(10)
    }
    expect(reader.calls).toBe(0)
    stop()
    const calls = loader.calls
    // the first fill, then one run every 40 ms for 320 ms
    expect(calls).toBe(9)
    await advance(100)
    expect(loader.calls).toBe(calls)
  })

  it('a scheduled run whose loader hangs is aborted by the hard timeout, and the next period runs again', async () => {
    herd = createHerd({ ttl: 1_000, hardTimeout: 40 })
    const signals: AbortSignal[] = []
    const hanging = (ctx: { signal: AbortSignal }) => {
      signals.push(ctx.signal)
      return new Promise<number>(() => {})
    }
    const stop = herd.keepFresh('hot', hanging, { every: 25 })
    await advance(150)
    stop()
    // the initial fill plus scheduled runs, each one aborted rather than piling up behind the first
    expect(signals.length).toBeGreaterThanOrEqual(2)
    expect(signals.slice(0, -1).every((s) => s.aborted)).toBe(true)
  })

  it('close() clears the schedule', async () => {
    herd = createHerd({ ttl: 100 })
    const loader = countingLoader(1)
    herd.keepFresh('hot', loader, { every: 20 })
    await advance(5)
    await herd.close()
    const calls = loader.calls
    await advance(60)
    expect(loader.calls).toBe(calls)
  })
})
