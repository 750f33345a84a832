import { afterEach, describe, expect, it, vi } from 'vitest'
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

describe('refresh bulkhead', () => {
  /** A loader that counts how many of its runs overlap, and answers `value` after `ms`. */
  const overlapping = (value: string, ms = 15) => {
    const seen = { calls: 0, running: 0, peak: 0 }
    const loader = async ({ key }: { key: string }) => {
      seen.calls++
      seen.peak = Math.max(seen.peak, ++seen.running)
      await sleep(ms)
      seen.running--
      return `${key}@${value}`
    }
    return Object.assign(loader, seen, { seen })
  }
  const refreshesDone = (n: number) =>
    new Promise<void>((resolve) => {
      let done = 0
      herd.on('refresh', () => ++done === n && resolve())
    })
  const keys = Array.from({ length: 10 }, (_, i) => `k${i}`)

  it('maxConcurrentRefreshes bounds background refreshes; the rest wait their turn, stale values are served meanwhile, every key is refreshed once', async () => {
    herd = createHerd({ ttl: 100, staleWhileRevalidate: 60_000, jitter: 0, beta: 0, maxConcurrentRefreshes: 2 })
    await settle(Promise.all(keys.map((k) => herd.fetch(k, async () => `${k}@1`))))
    await advance(200)
    const v2 = overlapping('2')
    const done = refreshesDone(10)
    // Every caller is answered at once with the stale value, though only two refreshes run.
    await expect(Promise.all(keys.map((k) => herd.fetch(k, v2)))).resolves.toEqual(keys.map((k) => `${k}@1`))
    expect(herd.stats().refreshQueue).toEqual({ running: 2, waiting: 8 })
    await settle(done)
    expect([v2.seen.calls, v2.seen.peak]).toEqual([10, 2])
    expect(herd.stats().refreshQueue).toEqual({ running: 0, waiting: 0 })
    expect(herd.stats().refreshes).toBe(10)
    await expect(Promise.all(keys.map((k) => herd.fetch(k, v2)))).resolves.toEqual(keys.map((k) => `${k}@2`))
    expect(v2.seen.calls).toBe(10)
  })

  it('a fetchMany refresh takes one place, whatever its size', async () => {
    herd = createHerd({ ttl: 100, staleWhileRevalidate: 60_000, jitter: 0, beta: 0, maxConcurrentRefreshes: 1 })
    await settle(herd.fetchMany(keys, async (ks) => new Map(ks.map((k) => [k, `${k}@1`]))))
    await settle(herd.fetch('x', async () => 'x@1'))
    await advance(200)
    const one = overlapping('2')
    const batches: number[] = []
    const done = refreshesDone(11)
    const stale = await herd.fetchMany(keys, async (ks) => {
      batches.push(ks.length)
      await one({ key: 'batch' })
      return new Map(ks.map((k) => [k, `${k}@2`]))
    })
    expect(stale).toEqual(keys.map((k) => `${k}@1`))
    await expect(herd.fetch('x', one)).resolves.toBe('x@1')
    await settle(done)
    // The batch ran as one, and the single key's refresh waited for it.
    expect([batches, one.seen.calls, one.seen.peak]).toEqual([[10], 2, 1])
  })

  it("a refresh's hard timeout counts from its turn: waiting for one doesn't cut its load short", async () => {
    herd = createHerd({ ttl: 100, staleWhileRevalidate: 60_000, jitter: 0, beta: 0, hardTimeout: 100, maxConcurrentRefreshes: 1 })
    await settle(Promise.all(keys.slice(0, 3).map((k) => herd.fetch(k, async () => `${k}@1`))))
    await advance(200)
    // Three refreshes of 80 ms, one at a time: the third starts at 160 ms, past a hard timeout counted from the reads.
    const slow = overlapping('2', 80)
    const results: boolean[] = []
    herd.on('refresh', (e) => results.push(e.ok))
    const done = refreshesDone(3)
    await Promise.all(keys.slice(0, 3).map((k) => herd.fetch(k, slow)))
    await settle(done)
    expect([results, slow.seen.peak, herd.stats().timeouts]).toEqual([[true, true, true], 1, 0])
    await expect(Promise.all(keys.slice(0, 3).map((k) => herd.fetch(k, slow)))).resolves.toEqual(keys.slice(0, 3).map((k) => `${k}@2`))
  })

  it('close() while refreshes wait their turn: everything settles, nothing is left running or queued', async () => {
    herd = createHerd({ ttl: 100, staleWhileRevalidate: 60_000, jitter: 0, beta: 0, maxConcurrentRefreshes: 1 })
    await settle(Promise.all(keys.map((k) => herd.fetch(k, async () => `${k}@1`))))
    await advance(200)
    // The running refresh hangs until its signal aborts; nine wait behind it.
    const hanging = vi.fn(
      ({ signal }: { signal: AbortSignal }) => new Promise<string>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    )
    await expect(Promise.all(keys.map((k) => herd.fetch(k, hanging)))).resolves.toEqual(keys.map((k) => `${k}@1`))
    await advance(10)
    expect(hanging).toHaveBeenCalledTimes(1)
    await settle(herd.close())
    await advance(60_000)
    expect(hanging).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it.each(['fetch', 'fetchMany'] as const)(
    'a refresh a caller waits on with nothing to be served (keepFresh, a key not held here) starts at once, past the bound (%s)',
    async (call) => {
      herd = createHerd({ ttl: 100, staleWhileRevalidate: 60_000, jitter: 0, beta: 0, maxConcurrentRefreshes: 1 })
      await settle(herd.fetch('a', async () => 'a@1'))
      await advance(200)
      // The one place is taken by a's stale refresh, which hangs until released.
      let release!: () => void
      const held = new Promise<void>((resolve) => (release = resolve))
      await expect(herd.fetch('a', () => held.then(() => 'a@2'))).resolves.toBe('a@1')
      // b is kept fresh but this process doesn't hold it: keepFresh's own first fetch failed.
      let bLoads = 0
      herd.keepFresh('b', async () => (++bLoads === 1 ? Promise.reject(new Error('not yet')) : 'b@2'), { every: 1_000 })
      await advance(1_000) // b's scheduled refresh: no value to serve, queued behind a's
      expect([bLoads, herd.stats().refreshQueue]).toEqual([1, { running: 1, waiting: 1 }])
      // A caller of b waits on that refresh: it starts now, and the caller has its value while a's still runs.
      const answer = call === 'fetch' ? herd.fetch('b', countingLoader('unused')) : herd.fetchMany(['b'], async () => ['unused']).then(([v]) => v)
      await expect(settle(answer, 5_000)).resolves.toBe('b@2')
      expect(bLoads).toBe(2)
      expect(herd.stats().refreshQueue.running).toBe(1)
      release()
      await advance(10)
      expect(herd.stats().refreshQueue).toEqual({ running: 0, waiting: 0 })
    },
  )

  it('counts running refreshes unbounded too', async () => {
    herd = createHerd({ ttl: 100, staleWhileRevalidate: 60_000, jitter: 0, beta: 0, maxConcurrentRefreshes: Infinity })
    await settle(Promise.all(keys.map((k) => herd.fetch(k, async () => `${k}@1`))))
    await advance(200)
    await Promise.all(keys.map((k) => herd.fetch(k, overlapping('2'))))
    expect(herd.stats().refreshQueue).toEqual({ running: 10, waiting: 0 })
    await advance(20)
    expect(herd.stats().refreshQueue).toEqual({ running: 0, waiting: 0 })
  })

  it('rejects a bound that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, '4']) {
      expect(() => createHerd({ maxConcurrentRefreshes: bad as number })).toThrow(HerdArgumentError)
    }
    expect(() => createHerd({ maxConcurrentRefreshes: Infinity }).close()).not.toThrow()
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
