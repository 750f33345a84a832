import { isDeepStrictEqual } from 'node:util'
import type { BusMessage, FusedAcquireHint, FusedFilled, FusedLock, Lease, Lock, StoredEntry } from '@herd/core'
import { describe, expect, it } from 'vitest'
import { Inbox } from './bus-suite.js'
import { type Factory, perTest, type SuiteOptions } from './harness.js'

/**
 * Called more than once per test: every call is one participant (one
 * process's Lock with `fused`), and all the calls in a test must share one
 * backend. For a networked Lock return a new one on its own connection, so
 * wake-ups and messages really cross the wire.
 */
export type FusedLockFactory = Factory<Lock>

export interface FusedLockSuiteOptions extends SuiteOptions<Lock> {
  /** The backend hands the written entry to waiters with the wake-up (then the suite requires it for small entries). Default false. */
  pushesEntries?: boolean
}

const LONG_TTL = 10_000
/** Only reached when a wake-up never comes: every test waits on events, not on this. */
const WAIT_TIMEOUT = 10_000

function entry(fence: number, value = `value ${fence}`): StoredEntry {
  const now = Date.now()
  return { value, fence, createdAt: now, freshUntil: now + 60_000, staleUntil: now + 90_000, errorUntil: now + 120_000, loadMs: 4 }
}

/** The fence a fill wrote with: the one it took (a lease acquired with `fenceAtFill`), else the lease's own. */
function fenceOf(lease: Lease, filled: FusedFilled): number {
  return filled.fence ?? lease.fence
}

function fusedOf(lock: Lock): FusedLock {
  expect(lock.fused, 'the factory must give a Lock with `fused`').toBeDefined()
  return lock.fused!
}

/**
 * Everything herd relies on from `Lock.fused` (core/src/contracts/lock.ts):
 * acquire-or-read, fill (write + release + wake + notify), a wait that hands
 * over the entry, and the optional one-trip write. Every assertion waits on
 * an outcome (a wake-up, a message, a reply), never on a time window.
 */
export function fusedLockSuite(name: string, factory: FusedLockFactory, options: FusedLockSuiteOptions = {}): void {
  describe(`${name} (fused Lock conformance)`, () => {
    const { key, create, defer } = perTest(factory, options)

    async function participants(n: number): Promise<FusedLock[]> {
      const locks: FusedLock[] = []
      for (let i = 0; i < n; i++) locks.push(fusedOf(await create()))
      return locks
    }

    async function won(fused: FusedLock, k: string, ttlMs = LONG_TTL, hint?: FusedAcquireHint): Promise<Lease> {
      const acquired = await fused.acquire(k, ttlMs, hint)
      expect(acquired.lease, `expected to acquire ${k}`).toBeDefined()
      return acquired.lease!
    }

    async function listen(fused: FusedLock): Promise<Inbox> {
      const inbox = new Inbox(key(''))
      defer(await fused.bus!.subscribe(inbox.listener))
      return inbox
    }

    describe('acquire', () => {
      it('a cold key: a lease with a fence, and no entry', async () => {
        const [a] = await participants(1)
        const acquired = await a!.acquire(key('k'), LONG_TTL)
        expect(acquired.lease?.key).toBe(key('k'))
        expect(Number.isSafeInteger(acquired.lease?.fence)).toBe(true)
        expect(acquired.entry).toBeUndefined()
      })

      it('the winner reads the entry stored right now (its double-check)', async () => {
        const [a] = await participants(1)
        const stored = entry(1)
        expect(await a!.store.set(key('k'), stored, 60_000)).toBe(true)
        const acquired = await a!.acquire(key('k'), LONG_TTL)
        expect(acquired.lease).toBeDefined()
        expect(acquired.entry).toEqual(stored)
      })

      it('a held key: no lease, the stored entry, and how long the lease still runs', async () => {
        const [a, b] = await participants(2)
        const stored = entry(1)
        await a!.store.set(key('k'), stored, 60_000)
        await won(a!, key('k'))
        const busy = await b!.acquire(key('k'), LONG_TTL)
        if (busy.lease !== undefined) throw new Error('expected the key to be busy')
        expect(busy.entry).toEqual(stored)
        if (busy.expiresInMs !== undefined) {
          expect(busy.expiresInMs).toBeGreaterThanOrEqual(0)
          expect(busy.expiresInMs).toBeLessThanOrEqual(LONG_TTL)
        }
      })

      it('concurrent acquires across participants give exactly one lease', async () => {
        const all = await participants(3)
        const results = await Promise.all(all.flatMap((p) => Array.from({ length: 8 }, () => p.acquire(key('k'), LONG_TTL))))
        expect(results.filter((r) => r.lease !== undefined)).toHaveLength(1)
      })

      it('fences grow across fused acquires, fills and the plain Lock', async () => {
        const lock = await create()
        const fused = fusedOf(lock)
        const first = await won(fused, key('k'))
        const firstFence = fenceOf(first, await fused.fill(first, { entry: entry(first.fence), ttlMs: 60_000 }))
        const plain = (await lock.acquire(key('k'), LONG_TTL))!
        await lock.release(plain)
        const third = await won(fused, key('k'))
        expect(plain.fence).toBeGreaterThan(firstFence)
        expect(third.fence).toBeGreaterThan(plain.fence)
      })
    })

    describe('acquire after a miss (the afterMiss hint)', () => {
      const AFTER_MISS: FusedAcquireHint = { afterMiss: true }

      it('one lease among concurrent acquires with and without the hint, across participants', async () => {
        const all = await participants(3)
        const results = await Promise.all(
          all.flatMap((p) => Array.from({ length: 8 }, (_, i) => p.acquire(key('k'), LONG_TTL, i % 2 === 0 ? AFTER_MISS : undefined))),
        )
        expect(results.filter((r) => r.lease !== undefined)).toHaveLength(1)
      })

      it("the fill's fence is above every earlier fence and below every later one", async () => {
        const lock = await create()
        const fused = fusedOf(lock)
        const before = await lock.fence(key('k'))
        const lease = await won(fused, key('k'), LONG_TTL, AFTER_MISS)
        const sent = entry(lease.fence)
        const filled = await fused.fill(lease, { entry: sent, ttlMs: 60_000 })
        expect(filled).toMatchObject({ written: true, released: true })
        const fence = fenceOf(lease, filled)
        expect(fence).toBeGreaterThan(before)
        expect(await fused.store.get(key('k'))).toEqual({ ...sent, fence })
        expect(await lock.fence(key('k'))).toBeGreaterThan(fence)
      })

      it('a key with an entry after all: the entry comes back, as the answer or with a lease for the double-check', async () => {
        const [a] = await participants(1)
        const stored = entry(1)
        await a!.store.set(key('k'), stored, 60_000)
        const acquired = await a!.acquire(key('k'), LONG_TTL, AFTER_MISS)
        expect(acquired.entry).toEqual(stored)
        // No lease given: none was left behind either.
        if (acquired.lease === undefined) expect((await a!.acquire(key('k'), LONG_TTL)).lease).toBeDefined()
      })

      it('a waiter that found it held is woken by the fill, with the entry when the backend pushes it', async () => {
        const [holder, waiter] = await participants(2)
        const lease = await won(holder!, key('k'), LONG_TTL, AFTER_MISS)
        expect((await waiter!.acquire(key('k'), LONG_TTL, AFTER_MISS)).lease).toBeUndefined()
        const woken = waiter!.wait(key('k'), WAIT_TIMEOUT)
        const sent = entry(lease.fence)
        const filled = await holder!.fill(lease, { entry: sent, ttlMs: 60_000 })
        const outcome = await woken
        expect(outcome.woken).toBe(true)
        if (options.pushesEntries || outcome.entry !== undefined) expect(outcome.entry).toEqual({ ...sent, fence: fenceOf(lease, filled) })
      })

      it('a write made since the acquire stands: the fill does not overwrite it, and waiters are woken', async () => {
        const [holder, waiter] = await participants(2)
        const lease = await won(holder!, key('k'), LONG_TTL, AFTER_MISS)
        expect((await waiter!.acquire(key('k'), LONG_TTL, AFTER_MISS)).lease).toBeUndefined()
        const woken = waiter!.wait(key('k'), WAIT_TIMEOUT)
        const newer = entry(Number.MAX_SAFE_INTEGER - 1, 'written meanwhile')
        expect(await waiter!.store.set(key('k'), newer, 60_000)).toBe(true)
        expect((await holder!.fill(lease, { entry: entry(lease.fence), ttlMs: 60_000 })).written).toBe(false)
        expect((await woken).woken).toBe(true)
        expect(await holder!.store.get(key('k'))).toEqual(newer)
      })

      it('the plain Lock extends and releases it, and the key is free again', async () => {
        const lock = await create()
        const fused = fusedOf(lock)
        const lease = await won(fused, key('k'), LONG_TTL, AFTER_MISS)
        expect(await lock.extend(lease, LONG_TTL)).toBe(true)
        expect(await lock.release(lease)).toBe(true)
        expect(await lock.extend(lease, LONG_TTL)).toBe(false)
        expect((await fused.acquire(key('k'), LONG_TTL, AFTER_MISS)).lease).toBeDefined()
      })
    })

    describe('readOrAcquire (optional: skipped where the Lock has none)', () => {
      /** The participants' readOrAcquire, or the test is skipped. */
      async function readers(n: number, skip: () => void): Promise<Array<FusedLock & Required<Pick<FusedLock, 'readOrAcquire'>>>> {
        const all = await participants(n)
        if (all[0]!.readOrAcquire === undefined) skip()
        return all as Array<FusedLock & Required<Pick<FusedLock, 'readOrAcquire'>>>
      }

      it('a stored entry comes back as Store.get returns it, and nothing is taken', async (ctx) => {
        const [a] = await readers(1, () => ctx.skip())
        const stored = entry(1)
        await a!.store.set(key('k'), stored, 60_000)
        const read = await a!.readOrAcquire(key('k'), LONG_TTL)
        expect(read.entry).toEqual(stored)
        expect(read.acquired).toBeUndefined()
        expect(await a!.store.get(key('k'))).toEqual(stored)
        expect((await a!.acquire(key('k'), LONG_TTL)).lease).toBeDefined()
      })

      it('a cold key: no entry and one lease among concurrent reads and acquires across participants; the others learn it is held', async (ctx) => {
        const all = await readers(3, () => ctx.skip())
        const results = await Promise.all(
          all.flatMap((p) =>
            Array.from({ length: 8 }, (_, i) =>
              i % 2 === 0 ? p.readOrAcquire(key('k'), LONG_TTL) : p.acquire(key('k'), LONG_TTL).then((acquired) => ({ entry: undefined, acquired })),
            ),
          ),
        )
        expect(results.every((r) => r.entry === undefined)).toBe(true)
        expect(results.filter((r) => r.acquired?.lease !== undefined)).toHaveLength(1)
      })

      it("its lease fills like an acquire's: the fence above earlier ones, and a reader that found it held is woken, with the entry when the backend pushes it", async (ctx) => {
        const [holder, waiter] = await readers(2, () => ctx.skip())
        const lock = await create()
        const before = await lock.fence(key('k'))
        const read = await holder!.readOrAcquire(key('k'), LONG_TTL)
        const lease = read.acquired?.lease
        if (lease === undefined) throw new Error('expected a lease on a cold key')
        const busy = await waiter!.readOrAcquire(key('k'), LONG_TTL)
        expect(busy.entry).toBeUndefined()
        expect(busy.acquired).toBeDefined()
        expect(busy.acquired!.lease).toBeUndefined()
        const woken = waiter!.wait(key('k'), WAIT_TIMEOUT)
        const sent = entry(lease.fence)
        const filled = await holder!.fill(lease, { entry: sent, ttlMs: 60_000 })
        expect(filled).toMatchObject({ written: true, released: true })
        const fence = fenceOf(lease, filled)
        expect(fence).toBeGreaterThan(before)
        const outcome = await woken
        expect(outcome.woken).toBe(true)
        if (options.pushesEntries || outcome.entry !== undefined) expect(outcome.entry).toEqual({ ...sent, fence })
        expect(await holder!.store.get(key('k'))).toEqual({ ...sent, fence })
      })

      it('the plain Lock releases its lease, and the key is free again', async (ctx) => {
        const lock = await create()
        const a = fusedOf(lock)
        if (a.readOrAcquire === undefined) return ctx.skip()
        const lease = (await a.readOrAcquire(key('k'), LONG_TTL)).acquired?.lease
        if (lease === undefined) throw new Error('expected a lease on a cold key')
        expect(await lock.release(lease)).toBe(true)
        expect((await a.readOrAcquire(key('k'), LONG_TTL)).acquired?.lease).toBeDefined()
      })
    })

    describe('fill', () => {
      it('writes, releases, and the key can be acquired again with a higher fence', async () => {
        const [a] = await participants(1)
        const lease = await won(a!, key('k'))
        const written = entry(lease.fence)
        const filled = await a!.fill(lease, { entry: written, ttlMs: 60_000 })
        expect(filled).toMatchObject({ written: true, released: true })
        expect(await a!.store.get(key('k'))).toEqual({ ...written, fence: fenceOf(lease, filled) })
        const next = await won(a!, key('k'))
        expect(next.fence).toBeGreaterThan(fenceOf(lease, filled))
      })

      it('refuses a write below the stored fence, and still releases', async () => {
        const [a] = await participants(1)
        await a!.store.set(key('k'), entry(1), 60_000)
        const lease = await won(a!, key('k'))
        const newer = entry(lease.fence + 1_000)
        await a!.store.set(key('k'), newer, 60_000)
        expect(await a!.fill(lease, { entry: entry(lease.fence), ttlMs: 60_000 })).toEqual({ written: false, released: true })
        expect(await a!.store.get(key('k'))).toEqual(newer)
        expect((await a!.acquire(key('k'), LONG_TTL)).lease).toBeDefined()
      })

      it('without a write (a failed load): releases and writes nothing', async () => {
        const [a] = await participants(1)
        const lease = await won(a!, key('k'))
        expect(await a!.fill(lease, undefined)).toEqual({ written: false, released: true })
        expect(await a!.store.get(key('k'))).toBeUndefined()
      })

      it("with a lease that is no longer ours: released is false and the new holder's lease stays", async () => {
        const [a, b] = await participants(2)
        const lease = await won(a!, key('k'))
        const stranger = { ...lease, token: `${lease.token}-not-mine` }
        expect((await a!.fill(stranger, undefined)).released).toBe(false)
        expect((await b!.acquire(key('k'), LONG_TTL)).lease).toBeUndefined()
        expect((await a!.fill(lease, undefined)).released).toBe(true)
      })

      it('ttlMs 0 writes an entry that is gone at once', async () => {
        const [a] = await participants(1)
        await a!.store.set(key('k'), entry(1), 60_000)
        const lease = await won(a!, key('k'))
        expect((await a!.fill(lease, { entry: entry(lease.fence), ttlMs: 0 })).released).toBe(true)
        expect(await a!.store.get(key('k'))).toBeUndefined()
      })
    })

    describe('wait', () => {
      it("wakes a waiter in another participant when the holder fills, with the holder's entry when it comes along", async () => {
        const [holder, waiter] = await participants(2)
        const lease = await won(holder!, key('k'))
        expect((await waiter!.acquire(key('k'), LONG_TTL)).lease).toBeUndefined()
        const woken = waiter!.wait(key('k'), WAIT_TIMEOUT)
        const sent = entry(lease.fence)
        const filled = await holder!.fill(lease, { entry: sent, ttlMs: 60_000 })
        const written = { ...sent, fence: fenceOf(lease, filled) }
        const outcome = await woken
        expect(outcome.woken).toBe(true)
        if (options.pushesEntries) expect(outcome.entry).toEqual(written)
        else if (outcome.entry !== undefined) expect(outcome.entry).toEqual(written)
      })

      it('every waiter of every participant is woken by one fill', async () => {
        const [holder, ...others] = await participants(3)
        const lease = await won(holder!, key('k'))
        for (const o of others) expect((await o.acquire(key('k'), LONG_TTL)).lease).toBeUndefined()
        const waits = others.flatMap((o) => Array.from({ length: 5 }, () => o.wait(key('k'), WAIT_TIMEOUT)))
        await holder!.fill(lease, { entry: entry(lease.fence), ttlMs: 60_000 })
        expect((await Promise.all(waits)).map((w) => w.woken)).toEqual(waits.map(() => true))
      })

      it('a fill without a write wakes the waiters without an entry', async () => {
        const [holder, waiter] = await participants(2)
        const lease = await won(holder!, key('k'))
        expect((await waiter!.acquire(key('k'), LONG_TTL)).lease).toBeUndefined()
        const woken = waiter!.wait(key('k'), WAIT_TIMEOUT)
        await holder!.fill(lease, undefined)
        expect(await woken).toEqual({ woken: true })
      })

      it('a refused write wakes the waiters without the refused entry', async () => {
        const [holder, waiter] = await participants(2)
        await holder!.store.set(key('k'), entry(1), 60_000)
        const lease = await won(holder!, key('k'))
        await holder!.store.set(key('k'), entry(lease.fence + 1_000), 60_000)
        expect((await waiter!.acquire(key('k'), LONG_TTL)).lease).toBeUndefined()
        const woken = waiter!.wait(key('k'), WAIT_TIMEOUT)
        expect((await holder!.fill(lease, { entry: entry(lease.fence), ttlMs: 60_000 })).written).toBe(false)
        const outcome = await woken
        expect(outcome.woken).toBe(true)
        expect(outcome.entry?.fence).not.toBe(lease.fence)
      })

      it('resolves woken at once on a free key', async () => {
        const [a] = await participants(1)
        expect((await a!.wait(key('free'), WAIT_TIMEOUT)).woken).toBe(true)
      })

      it("wakes when the holder's lease runs out without a fill (a crashed holder)", async () => {
        const [holder, waiter] = await participants(2)
        await won(holder!, key('k'), 1_000)
        // On a very busy machine the lease may already be gone by the time the waiter asks: then it simply wins.
        if ((await waiter!.acquire(key('k'), LONG_TTL)).lease !== undefined) return
        expect((await waiter!.wait(key('k'), WAIT_TIMEOUT)).woken).toBe(true)
        expect((await waiter!.acquire(key('k'), LONG_TTL)).lease).toBeDefined()
      })

      it('resolves not woken on timeout and on abort, and never rejects', async () => {
        const [holder, waiter] = await participants(2)
        await won(holder!, key('k'))
        expect((await waiter!.acquire(key('k'), LONG_TTL)).lease).toBeUndefined()
        expect(await waiter!.wait(key('k'), 50)).toEqual({ woken: false })
        expect(await waiter!.wait(key('k'), WAIT_TIMEOUT, AbortSignal.abort())).toEqual({ woken: false })
        const controller = new AbortController()
        const aborted = waiter!.wait(key('k'), WAIT_TIMEOUT, controller.signal)
        controller.abort()
        expect(await aborted).toEqual({ woken: false })
      })
    })

    describe('notify', () => {
      it("a fill's notify reaches every subscriber of the bus once, in order with the holder's later messages", async () => {
        const [holder, receiver] = await participants(2)
        if (holder!.bus === undefined) return
        const inbox = await listen(receiver!)
        const lease = await won(holder!, key('k'))
        const notify: BusMessage = { kind: 'set', key: key('k'), origin: 'herd-a' }
        const filled = await holder!.fill(lease, { entry: entry(lease.fence), ttlMs: 60_000 }, notify)
        const marker: BusMessage = { kind: 'delete', key: key('marker'), origin: 'herd-a' }
        await holder!.bus.publish(marker)
        expect(await inbox.until(2)).toStrictEqual([asDelivered(notify, filled.fence ?? lease.fence), marker])
      })

      it('a refused write sends no notify', async () => {
        const [holder, receiver] = await participants(2)
        if (holder!.bus === undefined) return
        const inbox = await listen(receiver!)
        const lease = await won(holder!, key('k'))
        await holder!.store.set(key('k'), entry(lease.fence + 1_000), 60_000)
        await holder!.fill(lease, { entry: entry(lease.fence), ttlMs: 60_000 }, { kind: 'set', key: key('k'), origin: 'herd-a' })
        const marker: BusMessage = { kind: 'delete', key: key('marker'), origin: 'herd-a' }
        await holder!.bus.publish(marker)
        expect(await inbox.until(1)).toStrictEqual([marker])
      })
    })

    describe('write (optional)', () => {
      it('takes the next fence, writes the entry with it, and notifies', async () => {
        const [a, receiver] = await participants(2)
        if (a!.write === undefined) return
        const inbox = a!.bus === undefined ? undefined : await listen(receiver!)
        const lease = await won(a!, key('k'))
        await a!.fill(lease, undefined)
        const notify: BusMessage = { kind: 'set', key: key('k'), origin: 'herd-a' }
        const result = await a!.write(key('k'), entry(0, 'set by hand'), 60_000, notify)
        expect(result.written).toBe(true)
        expect(result.fence).toBeGreaterThan(lease.fence)
        expect(await a!.store.get(key('k'))).toEqual({
          ...entry(result.fence, 'set by hand'),
          createdAt: expect.any(Number),
          freshUntil: expect.any(Number),
          staleUntil: expect.any(Number),
          errorUntil: expect.any(Number),
        })
        if (inbox !== undefined) expect(await inbox.until(1)).toStrictEqual([asDelivered(notify, result.fence)])
        const later = await won(a!, key('k'))
        expect(later.fence).toBeGreaterThan(result.fence)
      })

      it('ttlMs 0 removes the entry (a delete)', async () => {
        const [a] = await participants(1)
        if (a!.write === undefined) return
        await a!.store.set(key('k'), entry(1), 60_000)
        expect((await a!.write(key('k'), entry(0, ''), 0)).written).toBe(true)
        expect(await a!.store.get(key('k'))).toBeUndefined()
      })
    })
  })
}

/**
 * `notify` as a subscriber may receive it: as given, or with the fence the
 * operation wrote when the Lock adds it (the contract allows it when the
 * Lock took the fence itself): whichever came, checked to be one of these.
 */
function asDelivered(notify: BusMessage, fence: number): unknown {
  return {
    asymmetricMatch: (received: BusMessage) => isDeepStrictEqual(received, notify) || isDeepStrictEqual(received, { ...notify, fence }),
    toString: () => `${JSON.stringify(notify)} (with or without "fence": ${fence})`,
  }
}
