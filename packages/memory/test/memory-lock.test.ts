import { HerdArgumentError } from '@herd/core'
import { describe, expect, it } from 'vitest'
import { memoryLock } from '../src/index.js'

/** Whether `promise` settles within `ms`; 'pending' if not. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<'pending'>((resolve) => (timer = setTimeout(resolve, ms, 'pending')))
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

/** Timers alive in this process: a settled wait must leave none behind. */
const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length

describe('memoryLock', () => {
  it('wakes waiters when the lease expires, so one can take over from a holder that never releases', async () => {
    const lock = memoryLock()
    const crashed = await lock.acquire('k', 150)
    const start = performance.now()
    expect(await lock.wait('k', 5_000)).toBe(true)
    const ms = performance.now() - start
    expect(ms).toBeGreaterThanOrEqual(100) // woken by the expiry, not before it
    expect(ms).toBeLessThan(1_500) // nor at the timeout
    const successor = await lock.acquire('k', 1_000)
    expect(successor?.fence).toBeGreaterThan(crashed!.fence)
  })

  it('extend pushes the expiry wake-up back', async () => {
    const lock = memoryLock()
    const lease = await lock.acquire('k', 150)
    const waiting = lock.wait('k', 5_000)
    expect(await lock.extend(lease!, 800)).toBe(true)
    expect(await within(waiting, 400)).toBe('pending')
    expect(await within(waiting, 2_000)).toBe(true)
  })

  it('extend to a shorter ttl brings the expiry wake-up forward', async () => {
    const lock = memoryLock()
    const lease = await lock.acquire('k', 60_000)
    const waiting = lock.wait('k', 5_000)
    expect(await lock.extend(lease!, 100)).toBe(true)
    expect(await within(waiting, 2_000)).toBe(true)
  })

  it('a wait longer than setTimeout allows (~24.8 days) does not fire at once', async () => {
    const lock = memoryLock()
    const lease = await lock.acquire('k', 60_000)
    const waiting = lock.wait('k', 2 ** 32)
    expect(await within(waiting, 100)).toBe('pending')
    await lock.release(lease!)
    expect(await waiting).toBe(true)
  })

  it('close() resolves every pending wait with false and clears its timers', async () => {
    const lock = memoryLock()
    const before = timers()
    await lock.acquire('a', 60_000)
    await lock.acquire('b', 60_000)
    const waits = [lock.wait('a', 60_000), lock.wait('a', 60_000), lock.wait('b', 60_000, new AbortController().signal)]
    expect(timers()).toBeGreaterThan(before)
    await lock.close()
    expect(await Promise.all(waits)).toEqual([false, false, false])
    expect(timers()).toBe(before)
    // Everything it held is gone too.
    expect(await lock.acquire('a', 1_000)).toBeDefined()
  })

  it('leaves no timer behind once a wait settles by release, timeout or abort', async () => {
    const lock = memoryLock()
    const before = timers()
    const lease = await lock.acquire('k', 60_000)

    const released = lock.wait('k', 60_000)
    await lock.release(lease!)
    expect(await released).toBe(true)
    expect(timers()).toBe(before)

    await lock.acquire('k', 60_000)
    expect(await lock.wait('k', 20)).toBe(false)
    expect(timers()).toBe(before)

    const controller = new AbortController()
    const aborted = lock.wait('k', 60_000, controller.signal)
    controller.abort()
    expect(await aborted).toBe(false)
    expect(timers()).toBe(before)
  })

  it('sweeps expired leases nobody released, so the lease map stays bounded', async () => {
    const lock = memoryLock()
    for (let i = 0; i < 100_000; i++) await lock.acquire(`key:${i}`, 0.001)
    expect(lock.size).toBeLessThanOrEqual(1024)
  })

  it('fences rise across separate memoryLock()s in one process', async () => {
    const [a, b] = [memoryLock(), memoryLock()]
    const fences = [(await a.acquire('k', 1_000))!.fence, await b.fence('k'), (await b.acquire('k', 1_000))!.fence, await a.fence('other')]
    for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]!)
  })

  describe('rejects bad arguments with a HerdArgumentError', () => {
    const lock = memoryLock()
    const bad = (value: unknown) => value as never
    const lease = { key: 'k', token: 't', fence: 1 }
    it.each([
      ['acquire with an empty key', () => lock.acquire('', 1_000)],
      ['acquire with a ttl of 0', () => lock.acquire('k', 0)],
      ['acquire with a NaN ttl', () => lock.acquire('k', Number.NaN)],
      ['release with no lease', () => lock.release(bad(undefined))],
      ['release with a lease without a token', () => lock.release(bad({ key: 'k', fence: 1 }))],
      ['extend with an infinite ttl', () => lock.extend(lease, Number.POSITIVE_INFINITY)],
      ['fence with a non-string key', () => lock.fence(bad(42))],
      ['wait with a negative timeout', () => lock.wait('k', -1)],
      ['wait with a signal that is not an AbortSignal', () => lock.wait('k', 1_000, bad({ aborted: false }))],
    ])('%s', async (_label, call) => {
      await expect(call()).rejects.toBeInstanceOf(HerdArgumentError)
    })
  })
})

describe('memoryLock inspect', () => {
  it('says whether a lease is held and for how much longer', async () => {
    const lock = memoryLock()
    expect(await lock.inspect!('k')).toEqual({ held: false })
    const lease = await lock.acquire('k', 10_000)
    const seen = await lock.inspect!('k')
    expect(seen.held).toBe(true)
    expect(seen.expiresInMs).toBeGreaterThan(0)
    expect(seen.expiresInMs).toBeLessThanOrEqual(10_000)
    await lock.release(lease!)
    expect(await lock.inspect!('k')).toEqual({ held: false })
    await lock.close()
  })
})
