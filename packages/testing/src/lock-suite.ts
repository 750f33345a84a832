import type { Lease, Lock } from '@herd/core'
import { beforeEach, describe, expect, it } from 'vitest'
import { type Factory, PENDING, perTest, sleep, type SuiteOptions, timed, within } from './harness.js'

export type LockFactory = Factory<Lock>
export type LockSuiteOptions = SuiteOptions<Lock>

/** Long enough to hold a lease through a few round trips on a busy machine, short enough to wait out. */
const SHORT_TTL = 200
const AFTER_SHORT_TTL = SHORT_TTL + 250
const LONG_TTL = 10_000
/** A wait that should end on an event, not on its timeout. */
const WAIT_TIMEOUT = 5_000
/** "Promptly": generous for a noisy machine, far below WAIT_TIMEOUT. */
const PROMPT = 1_000
/** How long a waiter that must not wake is watched. */
const QUIET = 150

/**
 * Everything herd relies on from a Lock. Call it at the top level of a
 * vitest file; `factory` gives a Lock for each test.
 */
export function lockSuite(name: string, factory: LockFactory, options?: LockSuiteOptions): void {
  describe(`${name} (Lock conformance)`, () => {
    const { key, create } = perTest(factory, options)
    let lock: Lock
    beforeEach(async () => {
      lock = await create()
    })

    async function acquired(k: string, ttlMs = LONG_TTL): Promise<Lease> {
      const lease = await lock.acquire(k, ttlMs)
      expect(lease, `expected to acquire ${k}`).toBeDefined()
      return lease!
    }

    describe('acquire, release, extend', () => {
      it('acquire gives a lease with the key, an owner token and a fence', async () => {
        const lease = await acquired(key('k'))
        expect(lease.key).toBe(key('k'))
        expect(typeof lease.token).toBe('string')
        expect(lease.token.length).toBeGreaterThan(0)
        expect(Number.isSafeInteger(lease.fence)).toBe(true)
      })

      it('a held key cannot be acquired again', async () => {
        await acquired(key('k'))
        expect(await lock.acquire(key('k'), LONG_TTL)).toBeUndefined()
      })

      it('concurrent acquires of one key give exactly one lease', async () => {
        const leases = await Promise.all(Array.from({ length: 25 }, () => lock.acquire(key('k'), LONG_TTL)))
        expect(leases.filter((lease) => lease !== undefined)).toHaveLength(1)
      })

      it('release and extend with a wrong token resolve false and the lease stays', async () => {
        const lease = await acquired(key('k'))
        const impostor = { ...lease, token: `${lease.token}-not-mine` }
        expect(await lock.release(impostor)).toBe(false)
        expect(await lock.extend(impostor, LONG_TTL)).toBe(false)
        expect(await lock.acquire(key('k'), LONG_TTL)).toBeUndefined()
        expect(await lock.release(lease)).toBe(true)
      })

      it('release by the owner resolves true once, and the key can be acquired again with a higher fence', async () => {
        const first = await acquired(key('k'))
        expect(await lock.release(first)).toBe(true)
        expect(await lock.release(first)).toBe(false)
        const second = await acquired(key('k'))
        expect(second.token).not.toBe(first.token)
        expect(second.fence).toBeGreaterThan(first.fence)
      })

      it('fences strictly increase across acquires and fence() calls', async () => {
        const fences: number[] = []
        for (let round = 0; round < 3; round++) {
          const lease = await acquired(key('k'))
          fences.push(lease.fence, await lock.fence(key('k')), await lock.fence(key('k')))
          await lock.release(lease)
        }
        fences.push(await lock.fence(key('k')))
        for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]!)
      })

      it('concurrent fence() calls all get distinct fences, above the current lease', async () => {
        const lease = await acquired(key('k'))
        const fences = await Promise.all(Array.from({ length: 25 }, () => lock.fence(key('k'))))
        expect(new Set(fences).size).toBe(fences.length)
        for (const fence of fences) expect(fence).toBeGreaterThan(lease.fence)
      })

      it('an expired lease lets another caller take over; the old owner can no longer release or extend', async () => {
        const old = await acquired(key('k'), SHORT_TTL)
        await sleep(AFTER_SHORT_TTL)
        const successor = await acquired(key('k'))
        expect(successor.fence).toBeGreaterThan(old.fence)
        expect(await lock.release(old)).toBe(false)
        expect(await lock.extend(old, LONG_TTL)).toBe(false)
        // The old owner's attempts must not have touched the successor's lease.
        expect(await lock.acquire(key('k'), LONG_TTL)).toBeUndefined()
        expect(await lock.release(successor)).toBe(true)
      })

      it('extend keeps a lease past its original ttl', async () => {
        const lease = await acquired(key('k'), SHORT_TTL)
        expect(await lock.extend(lease, LONG_TTL)).toBe(true)
        await sleep(AFTER_SHORT_TTL)
        expect(await lock.acquire(key('k'), LONG_TTL)).toBeUndefined()
        expect(await lock.release(lease)).toBe(true)
      })

      it('extend after release resolves false', async () => {
        const lease = await acquired(key('k'))
        await lock.release(lease)
        expect(await lock.extend(lease, LONG_TTL)).toBe(false)
      })

      it('different keys are independent', async () => {
        const a = await acquired(key('a'))
        const b = await acquired(key('{a}'))
        expect(await lock.release(a)).toBe(true)
        expect(await lock.acquire(key('{a}'), LONG_TTL)).toBeUndefined()
        expect(await lock.release(b)).toBe(true)
      })
    })

    describe('wait', () => {
      it('on a free key resolves true promptly', async () => {
        const { result, ms } = await timed(() => lock.wait(key('free'), WAIT_TIMEOUT))
        expect(result).toBe(true)
        expect(ms).toBeLessThan(PROMPT)
      })

      it('resolves true for every waiter soon after release, and not before', async () => {
        const lease = await acquired(key('k'))
        const waits = Array.from({ length: 20 }, () => lock.wait(key('k'), WAIT_TIMEOUT))
        expect(await within(Promise.race(waits), QUIET)).toBe(PENDING)
        const { result, ms } = await timed(async () => {
          await lock.release(lease)
          return Promise.all(waits)
        })
        expect(result).toEqual(waits.map(() => true))
        expect(ms).toBeLessThan(PROMPT)
      })

      it('waiters on another key are not woken', async () => {
        const a = await acquired(key('a'))
        const b = await acquired(key('b'))
        const waitB = lock.wait(key('b'), WAIT_TIMEOUT)
        await lock.release(a)
        expect(await within(waitB, QUIET)).toBe(PENDING)
        await lock.release(b)
        expect(await within(waitB, PROMPT)).toBe(true)
      })

      it('resolves false after a short timeout', async () => {
        await acquired(key('k'))
        const { result, ms } = await timed(() => lock.wait(key('k'), SHORT_TTL))
        expect(result).toBe(false)
        // Not at once: it did wait (timers may fire a little early, never much).
        expect(ms).toBeGreaterThanOrEqual(SHORT_TTL - 50)
      })

      it('resolves false for an already-aborted signal', async () => {
        await acquired(key('k'))
        const { result, ms } = await timed(() => lock.wait(key('k'), WAIT_TIMEOUT, AbortSignal.abort()))
        expect(result).toBe(false)
        expect(ms).toBeLessThan(PROMPT)
      })

      it('resolves false soon after its signal aborts, and not before', async () => {
        await acquired(key('k'))
        const controller = new AbortController()
        const waiting = lock.wait(key('k'), WAIT_TIMEOUT, controller.signal)
        expect(await within(waiting, QUIET)).toBe(PENDING)
        controller.abort()
        expect(await within(waiting, PROMPT)).toBe(false)
      })

      it('a timeout past what a Node timer holds (2^31 ms and more) waits for the release, with no TimeoutOverflowWarning', async () => {
        const lease = await acquired(key('k'))
        const warnings: string[] = []
        const onWarning = (warning: Error) => warnings.push(warning.name)
        process.on('warning', onWarning)
        try {
          // A raw setTimeout of this fires after 1 ms: the wait would resolve false long before the release.
          const waiting = lock.wait(key('k'), 2 ** 31 + 5)
          expect(await within(waiting, QUIET)).toBe(PENDING)
          await lock.release(lease)
          expect(await within(waiting, PROMPT)).toBe(true)
        } finally {
          process.off('warning', onWarning)
        }
        expect(warnings).not.toContain('TimeoutOverflowWarning')
      })

      it('rejects a timeoutMs that is not a finite number >= 0 with a HerdArgumentError', async () => {
        await acquired(key('k'))
        for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY, '100' as unknown as number]) {
          await expect(lock.wait(key('k'), bad), String(bad)).rejects.toMatchObject({ name: 'HerdArgumentError' })
        }
      })
    })
  })
}
