import { createHerd, type Herd, type HerdOptions } from '@herd/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { memoryBus, memoryLock, memoryStore } from '../src/index.js'

/*
 * Several herds over one memory Store, Lock and Bus behave like the
 * processes of a fleet over one Redis: the pipeline's fleet-wide guarantees
 * hold here exactly as they must on Redis (where @herd/redis proves them
 * again with real child processes).
 */

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
let fleet: Herd[] = []
afterEach(async () => {
  await Promise.all(fleet.map((h) => h.close()))
  fleet = []
})

/** The lock's methods bound to it, so a test can replace one of them. */
function bind<T extends object>(target: T): T {
  const out = {} as Record<string, unknown>
  for (const name of ['acquire', 'release', 'extend', 'fence', 'wait']) {
    out[name] = (target as Record<string, (...args: unknown[]) => unknown>)[name]!.bind(target)
  }
  return out as T
}

function makeFleet(size: number, options: HerdOptions = {}) {
  const backend = { store: memoryStore(), lock: memoryLock(), bus: memoryBus() }
  fleet = Array.from({ length: size }, () => createHerd({ ...backend, ...options }))
  return { ...backend, herds: fleet }
}

describe('a fleet of herds over one memory backend', () => {
  it('4 herds × 250 concurrent callers of a cold key: one loader call in total, everyone gets the value', async () => {
    const { herds } = makeFleet(4)
    let calls = 0
    const loader = async () => {
      calls++
      await sleep(100)
      return { rows: 42 }
    }
    const results = await Promise.all(herds.flatMap((h) => Array.from({ length: 250 }, () => h.fetch('hot', loader))))
    expect(calls).toBe(1)
    expect(results).toHaveLength(1000)
    for (const r of results) expect(r).toEqual({ rows: 42 })
    // the three herds that lost the lock waited and were woken, not polled
    const waits = herds.map((h) => h.stats().lockWaits)
    expect(waits.filter((w) => w > 0)).toHaveLength(3)
  })

  it('4 herds × 250 callers of a stale key: all get the stale value at once, one refresh in total', async () => {
    const { herds } = makeFleet(4, { ttl: 50, jitter: 0, beta: 0, staleWhileRevalidate: '1m', local: { ttl: 10 } })
    let calls = 0
    let openGate!: () => void
    const gate = new Promise<void>((resolve) => (openGate = resolve))
    const loader = async () => {
      calls++
      if (calls > 1) await gate
      return `v${calls}`
    }
    await herds[0]!.fetch('hot', loader)
    await sleep(70)
    const results = await Promise.all(herds.flatMap((h) => Array.from({ length: 250 }, () => h.fetch('hot', loader))))
    expect(results.every((r) => r === 'v1')).toBe(true)
    openGate()
    await sleep(30)
    expect(calls).toBe(2)
    expect(herds.reduce((n, h) => n + h.stats().refreshes, 0)).toBe(1)
  })

  it('waiters in other herds wake when the value lands, not on a poll interval', async () => {
    // A lease of an hour: the memory Lock wakes a waiter at the holder's release or at the lease's expiry, never on a
    // tick, so only the release can end b's wait within the test's timeout.
    const { herds } = makeFleet(2, { lease: '1h' })
    const [a, b] = herds as [Herd, Herd]
    let land!: () => void
    const landing = new Promise<void>((resolve) => (land = resolve))
    const first = a.fetch('k', async () => {
      await landing
      return 'v'
    })
    await sleep(10)
    const second = b.fetch('k', async () => 'b should not load')
    await sleep(10)
    land()
    await expect(second).resolves.toBe('v')
    await expect(first).resolves.toBe('v')
    expect(b.stats().lockWaits).toBe(1)
  })

  it("a holder whose lease expired mid-load can't overwrite its successor's value", async () => {
    const store = memoryStore()
    const lock = memoryLock()
    // A stalls: its lease renewals never arrive (as when its event loop blocks or its network drops)
    const stalledLock = { ...bind(lock), extend: () => new Promise<boolean>(() => {}) }
    const a = createHerd({ store, lock: stalledLock, lease: 60, operationTimeout: 30 })
    const b = createHerd({ store, lock, lease: 60 })
    fleet = [a, b]
    let releaseA!: () => void
    const aResult = a.fetch('k', () => new Promise<string>((resolve) => (releaseA = () => resolve('late from A'))))
    await sleep(10)
    // B waits for A, sees A's lease expire, takes over, loads and writes with a newer fence
    await expect(b.fetch('k', async () => 'fresh from B')).resolves.toBe('fresh from B')
    releaseA()
    await expect(aResult).resolves.toBe('late from A') // A's own callers asked before B's write
    expect(a.stats().fencedOut).toBe(1)
    const reader = createHerd({ store, lock })
    fleet.push(reader)
    await expect(reader.get('k')).resolves.toBe('fresh from B')
  })

  it("a set, expire or delete in one herd drops the key from every other herd's local tier", async () => {
    const { herds } = makeFleet(3, { local: { ttl: '1m' } })
    for (const h of herds) await h.fetch('k', async () => 'v1')
    await herds[0]!.set('k', 'v2')
    await sleep(5)
    for (const h of herds) await expect(h.fetch('k', async () => 'loader')).resolves.toBe('v2')
    await herds[1]!.delete('k')
    await sleep(5)
    for (const h of herds) await expect(h.get('k')).resolves.toBeUndefined()
  })

  it('keepFresh in every herd: one refresh per period across the fleet', async () => {
    // On a clock the test moves: how fast a loaded machine runs its timers changes nothing.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] })
    try {
      const { herds } = makeFleet(3, { ttl: 1_000, jitter: 0, beta: 0 })
      let calls = 0
      const loader = async () => {
        calls++
        await sleep(5)
        return calls
      }
      const stops = herds.map((h) => h.keepFresh('hot', loader, { every: 100 }))
      await vi.advanceTimersByTimeAsync(530)
      for (const stop of stops) stop()
      // one initial fill plus one per period; without the fleet check it would be three per period
      expect(calls).toBeGreaterThanOrEqual(5)
      expect(calls).toBeLessThanOrEqual(7)
    } finally {
      vi.useRealTimers()
    }
  })
})
