import { tracingChannel } from 'node:diagnostics_channel'
import { getEventListeners, setMaxListeners } from 'node:events'
import { type StoredEntry, createHerd } from '@herd/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { redisBackend, redisBus, redisLock } from '../src/index.js'
import { Commands } from '../src/commands.js'
import { keyspace } from '../src/keys.js'
import { portFor } from '../src/port/index.js'
import { Subscriber } from '../src/subscriber.js'
import { Waiters } from '../src/waiters.js'
import { type Connected, TARGETS, connect, haveRedis, uniquePrefix } from './clients.js'

/** Channels matching `pattern` that have subscribers, classic and sharded, on every master. */
async function channels(redis: Connected, pattern: string): Promise<string[]> {
  const classic = await redis.everyMaster(['PUBSUB', 'CHANNELS', pattern])
  const sharded = redis.target.topology === 'cluster' ? await redis.everyMaster(['PUBSUB', 'SHARDCHANNELS', pattern]) : []
  return [...new Set([...classic, ...sharded].flat() as string[])]
}

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
}

function entry(fence: number, value: string): StoredEntry {
  const now = Date.now()
  return { value, fence, createdAt: now, freshUntil: now + 60_000, staleUntil: now + 60_000, errorUntil: now + 60_000, loadMs: 1 }
}

/** Long enough that nothing but the event under test can end a wait before its timeout. */
const NEVER = { fallbackInterval: '60s' } as const
const WAIT = 20_000

describe.skipIf(!haveRedis)('Lock.wait', () => {
  for (const target of TARGETS) {
    describe(target.label, () => {
      // Two clients stand for two processes: the holder's and the waiter's.
      let holderRedis: Connected
      let waiterRedis: Connected
      beforeAll(async () => {
        ;[holderRedis, waiterRedis] = await Promise.all([connect(target), connect(target)])
      })

      it('a waiter in another process is woken by the release message itself (no check runs while the lease does)', async () => {
        const prefix = uniquePrefix()
        const holder = redisLock(holderRedis.client, { prefix })
        const { lock: waiter } = redisBackend(waiterRedis.client, { prefix, ...NEVER })
        for (const release of ['plain release', 'fused fill'] as const) {
          const lease = (await holder.acquire(release, 30_000))!
          // A fused acquire subscribes the wake channel before it asks: the wait that follows never checks the lease.
          expect((await waiter.fused!.acquire(release, 30_000)).lease).toBeUndefined()
          const woken = waiter.fused!.wait(release, WAIT)
          if (release === 'plain release') await holder.release(lease)
          else await redisBackend(holderRedis.client, { prefix }).lock.fused!.fill(lease, undefined)
          expect(await woken).toEqual({ woken: true })
        }
        await Promise.all([holder.close?.(), waiter.close?.()])
      })

      it('the entry comes with the wake-up up to wakePayloadLimit; past it the waiter is woken without it', async () => {
        const prefix = uniquePrefix()
        const { lock: holder } = redisBackend(holderRedis.client, { prefix })
        const { lock: waiter } = redisBackend(waiterRedis.client, { prefix, ...NEVER, wakePayloadLimit: 1_000 })
        const { lock: limited } = redisBackend(holderRedis.client, { prefix, wakePayloadLimit: 1_000 })
        for (const [key, size, pushed] of [
          ['small', 900, true],
          ['big', 1_100, false],
        ] as const) {
          const lease = (await limited.fused!.acquire(key, 30_000)).lease!
          expect((await waiter.fused!.acquire(key, 30_000)).lease).toBeUndefined()
          const woken = waiter.fused!.wait(key, WAIT)
          const sent = entry(lease.fence, 'x'.repeat(size))
          const filled = await limited.fused!.fill(lease, { entry: sent, ttlMs: 60_000 })
          expect(filled).toMatchObject({ written: true, released: true })
          // A key without an entry is leased as a marker: the fill takes the fence.
          expect(await woken).toEqual(pushed ? { woken: true, entry: { ...sent, fence: filled.fence ?? lease.fence } } : { woken: true })
        }
        // A plain waiter (no fused acquire) is woken all the same.
        const lease = (await holder.fused!.acquire('unwatched', 30_000)).lease!
        const plain = redisLock(waiterRedis.client, { prefix })
        const plainWait = plain.wait('unwatched', WAIT)
        await holder.fused!.fill(lease, { entry: entry(lease.fence, 'v'), ttlMs: 60_000 })
        expect(await plainWait).toBe(true)
        await Promise.all([holder.close?.(), waiter.close?.(), limited.close?.(), plain.close?.()])
      })

      it("a release that overtakes the busy acquire's reply still wakes the wait that follows, at once, with the entry", async () => {
        const prefix = uniquePrefix()
        const sharded = target.topology === 'cluster'
        const keys = keyspace(prefix, sharded)
        const port = portFor(waiterRedis.client, 'test')
        const owner = {}
        const subscriber = Subscriber.for(port, owner, () => {})
        const waiters = new Waiters(new Commands(port, 1_000), keys, subscriber, sharded, 60_000)
        const { lock: holder } = redisBackend(holderRedis.client, { prefix })
        // A key with an entry: the lease is at the lock key, which a waiter marks.
        await holder.fused!.store.set('raced', entry(1, 'old'), 60_000)
        const lease = (await holder.fused!.acquire('raced', 30_000)).lease!
        await waiters.listen('raced')
        // The order a slow acquire reply produces: acquire sent, the holder's fill heard, then the busy reply.
        waiters.acquiring('raced')
        let messages = 0
        const heard = new Promise<void>((resolve) => void subscriber.subscribe(keys.wake('raced'), sharded, () => ++messages === 2 && resolve()))
        // An older lease's release on the same key is not the holder's: it must not count.
        await holderRedis.raw(keys.wake('raced'), [sharded ? 'SPUBLISH' : 'PUBLISH', keys.wake('raced'), `5:raced36:${'0'.repeat(36)}`])
        await holderRedis.raw(keys.lock('raced'), ['APPEND', keys.lock('raced'), '+']) // a waiter marked it, as the busy acquire did
        const written = {
          value: 'v',
          fence: lease.fence,
          createdAt: 1,
          freshUntil: Date.now() + 60_000,
          staleUntil: Date.now() + 60_000,
          errorUntil: Date.now() + 60_000,
          loadMs: 1,
        }
        await holder.fused!.fill(lease, { entry: written, ttlMs: 60_000 })
        await heard // both messages reached this process' listeners, the Waiters' included
        waiters.acquired('raced', { holder: lease.token, expiresInMs: 30_000 })
        // Nothing else could wake it within the test: the lease ran 30 s and the fallback is 60 s.
        expect(await waiters.wait('raced', WAIT)).toEqual({ woken: true, entry: written })
        waiters.close()
        subscriber.release(owner)
        await holder.close?.()
      })

      it("a crashed holder's waiters are woken by the check scheduled for the lease's expiry", async () => {
        const prefix = uniquePrefix()
        const holder = redisLock(holderRedis.client, { prefix })
        const { lock: waiter } = redisBackend(waiterRedis.client, { prefix, ...NEVER })
        expect(await waiter.wait('free', WAIT)).toBe(true)
        await holder.acquire('crashed', 300) // never released
        expect(await waiter.wait('crashed', WAIT)).toBe(true)
        // The fused acquire must find the lease still held: on a machine slower than the lease, try a longer one.
        let waited = false
        for (const leaseMs of [300, 1_000, 3_000, 10_000]) {
          const key = `crashed-fused-${leaseMs}`
          await holder.acquire(key, leaseMs)
          if ((await waiter.fused!.acquire(key, 30_000)).lease) continue
          expect(await waiter.fused!.wait(key, WAIT)).toEqual({ woken: true })
          waited = true
          break
        }
        expect(waited).toBe(true)
        await Promise.all([holder.close?.(), waiter.close?.()])
      })

      it('a lost wake-up message costs at most the fallback interval', async () => {
        const prefix = uniquePrefix()
        const keys = keyspace(prefix, target.topology === 'cluster')
        const holder = redisLock(holderRedis.client, { prefix })
        const waiter = redisLock(waiterRedis.client, { prefix, fallbackInterval: 200 })
        await holder.acquire('lost', 60_000)
        const woken = waiter.wait('lost', WAIT)
        // The lease goes without the release script, so nothing is published.
        await holderRedis.raw(keys.lock('lost'), ['DEL', keys.lock('lost')])
        expect(await woken).toBe(true)
        await Promise.all([holder.close?.(), waiter.close?.()])
      })

      it('a wait whose wake channel Redis never confirms still ends once the lease is released: its checks start after fallbackInterval anyway', async () => {
        const prefix = uniquePrefix()
        const sharded = target.topology === 'cluster'
        const keys = keyspace(prefix, sharded)
        // A pub/sub connection that never confirms a subscription (stuck): no wake-up can reach this waiter.
        const stuck = {
          subscribe: () => new Promise<void>(() => {}),
          isSubscribed: () => false,
          isSubscribing: () => true,
          unsubscribe: async () => {},
        } as unknown as Subscriber
        const waiters = new Waiters(new Commands(portFor(waiterRedis.client, 'test'), 1_000), keys, stuck, sharded, 200)
        const holder = redisLock(holderRedis.client, { prefix })
        const lease = (await holder.acquire('stuck', 60_000))!
        // Only a check can end this wait before the test's timeout: the wait's own timeout is ten minutes.
        const woken = waiters.wait('stuck', 600_000)
        expect(await holder.release(lease)).toBe(true)
        expect(await woken).toEqual({ woken: true })
        waiters.close()
        await holder.close?.()
      })

      it('false on timeout, on abort and on close; never rejects', async () => {
        const prefix = uniquePrefix()
        const holder = redisLock(holderRedis.client, { prefix })
        const waiter = redisLock(waiterRedis.client, { prefix })
        await holder.acquire('held', 30_000)
        expect(await waiter.wait('held', 150)).toBe(false)
        const controller = new AbortController()
        const aborted = waiter.wait('held', 10_000, controller.signal)
        setTimeout(() => controller.abort(), 50)
        expect(await aborted).toBe(false)
        expect(await waiter.wait('held', 10_000, AbortSignal.abort())).toBe(false)
        // 'other' is held before anyone waits on it: a wait on a free key rightly resolves true at once
        await holder.acquire('other', 30_000)
        const pending = [waiter.wait('held', 10_000), waiter.wait('held', 10_000), waiter.wait('other', 10_000)]
        await waiter.close?.()
        expect(await Promise.all(pending)).toEqual([false, false, false])
        expect(await waiter.wait('held', 10_000)).toBe(false) // after close
        await holder.close?.()
      })

      it('a woken or timed-out wait leaves no timer and no abort listener once the turn that woke it is over; close() clears them at once', async () => {
        const prefix = uniquePrefix()
        const holder = redisLock(holderRedis.client, { prefix })
        const waiter = redisLock(waiterRedis.client, { prefix, ...NEVER })
        expect(await waiter.ready?.()).toBe(true)
        const baseline = timeouts()
        const controller = new AbortController()
        const lease = (await holder.acquire('k', 30_000))!
        const woken = waiter.wait('k', WAIT, controller.signal)
        expect(await waiter.wait('k', 1, controller.signal)).toBe(false)
        await holder.release(lease)
        expect(await woken).toBe(true)
        // Their clean-up runs in a setImmediate after the read that woke them: this one comes after it.
        await new Promise((resolve) => setImmediate(resolve))
        expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
        expect(timeouts()).toBeLessThanOrEqual(baseline)

        const held = (await holder.acquire('k', 30_000))!
        const closing = waiter.wait('k', WAIT, controller.signal)
        expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1)
        await waiter.close?.()
        expect(await closing).toBe(false)
        // Gone with the wait's timer, in the same clean-up (timers are not counted here: ioredis keeps some of its own as it closes).
        expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
        await holder.release(held)
        await holder.close?.()
      })

      it('durations past what a Node timer holds (fallbackInterval, commandTimeout and a wait of 30 days) work, with no TimeoutOverflowWarning', async () => {
        const prefix = uniquePrefix()
        const warnings: string[] = []
        const onWarning = (warning: Error) => warnings.push(warning.name)
        process.on('warning', onWarning)
        try {
          const holder = redisLock(holderRedis.client, { prefix })
          const { lock: waiter } = redisBackend(waiterRedis.client, { prefix, fallbackInterval: '30d', commandTimeout: '30d' })
          // A raw setTimeout of 30 days fires after 1 ms: the SUBSCRIBE would time out at once and ready() say false.
          expect(await waiter.ready?.()).toBe(true)
          for (const fused of [false, true]) {
            const lease = (await holder.acquire('k', 30_000))!
            if (fused) expect((await waiter.fused!.acquire('k', 30_000)).lease).toBeUndefined()
            const waiting = fused ? waiter.fused!.wait('k', 30 * 86_400_000) : waiter.wait('k', 30 * 86_400_000)
            await holder.release(lease)
            expect(await waiting).toEqual(fused ? { woken: true } : true)
          }
          await Promise.all([holder.close?.(), waiter.close?.()])
        } finally {
          process.off('warning', onWarning)
        }
        expect(warnings).not.toContain('TimeoutOverflowWarning')
      })

      it("a process woken with the entry keeps it as its local copy, though the fill's Bus message comes after the wake-up (on a Cluster, published once the fill replied)", async () => {
        const prefix = uniquePrefix()
        const local = { maxSize: 100, ttl: '1m' } as const
        const holder = createHerd({ ...redisBackend(holderRedis.client, { prefix }), local })
        const waiter = createHerd({ ...redisBackend(waiterRedis.client, { prefix }), local })
        // After the fills: one more message from the holder's client on the same channel; once the waiter's side has
        // it, the fills' own Bus messages (sent before it, in order) have been handled too.
        const after = redisBus(holderRedis.client, { prefix })
        const heard = redisBus(waiterRedis.client, { prefix })
        const last = new Promise<void>((resolve) => {
          void heard.subscribe((message) => message.key === 'last' && resolve())
        })
        // Which keys a wait began on (herd's lock trace), so the gate opens only once the waiter waits.
        const waits = new Set<string>()
        const lockTrace = tracingChannel<unknown, { operation: string; key: string }>('herd:lock')
        const onStart = (context: { operation: string; key: string }) => void (context.operation === 'wait' && waits.add(context.key))
        lockTrace.start.subscribe(onStart as (message: unknown) => void)
        try {
          await Promise.all([holder.ready(), waiter.ready()])
          const keys = Array.from({ length: 10 }, (_, i) => `k${i}`)
          for (const key of keys) {
            let open!: () => void
            let loadStarted!: () => void
            const gate = new Promise<void>((resolve) => (open = resolve))
            const started = new Promise<void>((resolve) => (loadStarted = resolve))
            const loading = holder.fetch(key, async () => {
              loadStarted()
              await gate
              return { key }
            })
            // The holder loads under its lease before the waiter asks; the fill wakes the waiter's wait.
            await started
            const waiting = waiter.fetch(key, async () => {
              throw new Error('the waiter loaded')
            })
            while (!waits.has(key)) await new Promise((resolve) => setImmediate(resolve))
            open()
            expect(await Promise.all([loading, waiting])).toEqual([{ key }, { key }])
          }
          expect(waiter.stats().lockWaits).toBe(keys.length)
          await after.publish({ kind: 'delete', key: 'last', origin: 'the test' })
          await last
          for (const key of keys) {
            const seen = await waiter.inspect(key)
            expect(seen.local, key).toBeDefined()
            expect(seen.local!.fence).toBe((seen.shared as { fence: number }).fence)
          }
          expect(waiter.stats().loads).toBe(0)
        } finally {
          lockTrace.start.unsubscribe(onStart as (message: unknown) => void)
          await Promise.all([holder.close(), waiter.close(), after.close?.(), heard.close?.()])
        }
      })

      it('1,000 waits on 100 keys: no SUBSCRIBE per key (one wake channel per process, or per slot on a Cluster), no timer left, nothing after close', async () => {
        const prefix = uniquePrefix()
        const keys = keyspace(prefix, target.topology === 'cluster')
        const holder = redisLock(holderRedis.client, { prefix })
        const waiter = redisLock(waiterRedis.client, { prefix })
        const bus = redisBus(waiterRedis.client, { prefix }) // shares the subscriber connection
        const unsubscribe = await bus.subscribe(() => {})
        const baseline = timeouts()
        const names = Array.from({ length: 100 }, (_, i) => `k${i}`)
        const leases = await Promise.all(names.map((k) => holder.acquire(k, 30_000)))
        const controller = new AbortController()
        setMaxListeners(0, controller.signal) // one signal for 333 waits, on purpose
        const waits = Array.from({ length: 1_000 }, (_, i) => {
          const key = names[i % names.length]!
          // a third is woken by a release, a third times out, a third is aborted
          if (i % 3 === 0) return waiter.wait(key, 10_000)
          if (i % 3 === 1) return waiter.wait(key, 200 + (i % 7) * 30)
          return waiter.wait(key, 10_000, controller.signal)
        })
        controller.abort()
        await Promise.all(leases.map((lease) => holder.release(lease!)))
        const results = await Promise.all(waits)
        expect(results.filter((r, i) => i % 3 === 0).every(Boolean)).toBe(true)
        expect(results.filter((r, i) => i % 3 === 2).some(Boolean)).toBe(false)
        const wakeChannels = new Set(names.map((k) => keys.wake(k)))
        expect(wakeChannels.size).toBe(target.topology === 'cluster' ? new Set(names.map((k) => keys.wake(k))).size : 1)
        // Still subscribed, ready for the next wait: exactly the channels of the keys waited on.
        expect((await channels(waiterRedis, `${prefix}*wake`)).sort()).toEqual([...wakeChannels].sort())
        expect(await channels(waiterRedis, `${prefix}bus`)).toEqual([`${prefix}bus`])
        expect(timeouts()).toBeLessThanOrEqual(baseline)
        await unsubscribe()
        await Promise.all([holder.close?.(), waiter.close?.(), bus.close?.()])
        // Closing the last adapter on the client closes (or unsubscribes) the pub/sub connection.
        const deadline = Date.now() + 5_000
        while ((await channels(waiterRedis, `${prefix}*`)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
        expect(await channels(waiterRedis, `${prefix}*`)).toEqual([])
      })
    })
  }
})
