import { memoryBus, memoryLock, memoryStore } from '@herd/memory'
import { describe, expect, it } from 'vitest'
import { ATTR, HISTOGRAM_BUCKETS, METRICS } from '../src/names.js'
import { advance, gate, settle, slowLoader, useFakeClock } from './support/clock.js'
import { downStore, herd, instrument, providers, telemetry } from './support/herds.js'

useFakeClock()

describe('metrics from a real herd', () => {
  it('herd.fetches counts every fetch by status and tier, named and unitised as documented', async () => {
    const t = telemetry()
    const h = herd({ store: memoryStore(), ttl: 100, jitter: 0, beta: 0, staleWhileRevalidate: '1m', local: { ttl: 50 } })
    instrument(h, { ...providers(t), name: 'users' })
    const loader = slowLoader('v', 10)
    await settle(Promise.all([h.fetch('k', loader), h.fetch('k', loader)])) // one miss, one coalesced
    await h.fetch('k', loader) // local hit
    await advance(60) // the local copy lapsed, the Store's is fresh
    await settle(h.fetch('k', loader))
    await advance(60) // stale everywhere: served stale, refreshed in the background
    await settle(h.fetch('k', loader))
    await advance(20)

    const m = await t.collect()
    const fetches = m.byName.get(METRICS.fetches.name)!
    expect(fetches.descriptor).toMatchObject({ unit: '{fetch}', description: METRICS.fetches.description })
    expect(m.points(METRICS.fetches.name).map((p) => ({ ...p.attributes, n: p.value }))).toEqual(
      expect.arrayContaining([
        { [ATTR.name]: 'users', [ATTR.fetchStatus]: 'miss', n: 1 },
        { [ATTR.name]: 'users', [ATTR.fetchStatus]: 'coalesced', n: 1 },
        { [ATTR.name]: 'users', [ATTR.fetchStatus]: 'hit', [ATTR.tier]: 'local', n: 1 },
        { [ATTR.name]: 'users', [ATTR.fetchStatus]: 'hit', [ATTR.tier]: 'store', n: 1 },
        { [ATTR.name]: 'users', [ATTR.fetchStatus]: 'stale', [ATTR.tier]: 'store', n: 1 },
      ]),
    )
    expect(m.points(METRICS.fetches.name)).toHaveLength(5)
    // The same numbers stats() reports.
    const stats = h.stats()
    expect(stats).toMatchObject({ misses: 1, coalesced: 1, hits: { local: 1, store: 1 } })
    expect(loader.calls).toBe(2)
  })

  it('herd.load.duration: one histogram point per loader run, in seconds, by reason, error.type on failure', async () => {
    const t = telemetry()
    const h = herd({ ttl: 100, jitter: 0, beta: 0, staleWhileRevalidate: '1m' })
    instrument(h, providers(t))
    await settle(h.fetch('k', slowLoader('v', 30)))
    await advance(150)
    await settle(h.fetch('k', slowLoader('v2', 20))) // stale: answered at once, refreshed in 20 ms
    await advance(20)
    class DatabaseDown extends Error {
      override name = 'DatabaseDown'
    }
    await expect(
      settle(
        h.fetch('other', async () => {
          await new Promise((resolve) => setTimeout(resolve, 5))
          throw new DatabaseDown('no connection')
        }),
      ),
    ).rejects.toThrow('no connection')

    const m = await t.collect()
    expect(m.byName.get(METRICS.loadDuration.name)!.descriptor).toMatchObject({ unit: 's', description: METRICS.loadDuration.description })
    expect(m.point(METRICS.loadDuration.name, { [ATTR.loadReason]: 'miss', [ATTR.errorType]: undefined })).toMatchObject({ value: 1, sum: 0.03 })
    expect(m.point(METRICS.loadDuration.name, { [ATTR.loadReason]: 'stale' })).toMatchObject({ value: 1, sum: 0.02 })
    const failed = m.point(METRICS.loadDuration.name, { [ATTR.errorType]: 'DatabaseDown' })
    expect(failed).toMatchObject({ value: 1, sum: 0.005, attributes: { [ATTR.loadReason]: 'miss', [ATTR.errorType]: 'DatabaseDown' } })
    // The histogram's buckets are the ones @herd/otel advises (seconds, 0.5 ms to 10 s).
    expect(failed.boundaries).toEqual(HISTOGRAM_BUCKETS)
    // The failed fetch is counted with its error.
    expect(m.point(METRICS.fetches.name, { [ATTR.errorType]: 'DatabaseDown' }).value).toBe(1)
  })

  it('lock acquires and waits between two herds sharing a Lock: busy, then a released wait timed in seconds', async () => {
    const t = telemetry()
    const store = memoryStore()
    const lock = memoryLock()
    const holder = herd({ store, lock })
    const waiter = herd({ store, lock })
    instrument(holder, { ...providers(t), name: 'holder' })
    instrument(waiter, { ...providers(t), name: 'waiter' })
    const slow = gate<string>()
    const held = holder.fetch('k', () => slow.promise)
    await advance(0)
    const waiting = waiter.fetch('k', slowLoader('never', 1))
    await advance(40)
    slow.open('v')
    await expect(settle(Promise.all([held, waiting]))).resolves.toEqual(['v', 'v'])

    const m = await t.collect()
    expect(m.byName.get(METRICS.lockAcquires.name)!.descriptor.unit).toBe('{acquire}')
    expect(m.point(METRICS.lockAcquires.name, { [ATTR.name]: 'holder' }).attributes[ATTR.lockOutcome]).toBe('lease')
    expect(m.point(METRICS.lockAcquires.name, { [ATTR.name]: 'waiter' }).attributes[ATTR.lockOutcome]).toBe('busy')
    expect(m.byName.get(METRICS.lockWaitDuration.name)!.descriptor.unit).toBe('s')
    expect(m.points(METRICS.lockWaitDuration.name)).toEqual([
      expect.objectContaining({ attributes: { [ATTR.name]: 'waiter', [ATTR.lockOutcome]: 'released' }, value: 1, sum: 0.04 }),
    ])
    // One load across both herds: the waiter's answer came from the holder's.
    expect(m.points(METRICS.loadDuration.name).map((p) => p.attributes[ATTR.name])).toEqual(['holder'])
  })

  it('herd.writes: written and fenced-out, by kind', async () => {
    const t = telemetry()
    const store = memoryStore()
    const h = herd({ store, local: false })
    instrument(h, providers(t))
    await h.set('a', 1)
    // Someone with a newer fence already wrote 'b': this herd's write is refused.
    await store.set('b', { value: '01', fence: Number.MAX_SAFE_INTEGER, createdAt: 0, freshUntil: 0, staleUntil: 0, errorUntil: 0, loadMs: 0 }, 60_000)
    await h.set('b', 2)
    await h.delete('a')

    const m = await t.collect()
    expect(m.byName.get(METRICS.writes.name)!.descriptor.unit).toBe('{write}')
    expect(m.point(METRICS.writes.name, { [ATTR.writeKind]: 'set', [ATTR.writeOutcome]: 'written' }).value).toBe(1)
    expect(m.point(METRICS.writes.name, { [ATTR.writeKind]: 'set', [ATTR.writeOutcome]: 'fenced-out' }).value).toBe(1)
    expect(m.point(METRICS.writes.name, { [ATTR.writeKind]: 'delete' }).attributes[ATTR.writeOutcome]).toBe('written')
    expect(h.stats().fencedOut).toBe(1)
  })

  it('a Store that is down: local-only writes, the breaker opening (a transition), and the breaker gauge', async () => {
    const t = telemetry()
    const h = herd({ store: downStore(), local: false, breaker: { threshold: 1, resetAfter: '1m' } })
    instrument(h, providers(t))
    let m = await t.collect()
    expect(m.points(METRICS.breakerState.name).map((p) => [p.attributes[ATTR.breakerState], p.value])).toEqual([
      ['closed', 1],
      ['open', 0],
      ['half-open', 0],
    ])
    await settle(h.fetch('k', slowLoader('v', 1)))
    await h.set('x', 1)

    m = await t.collect()
    expect(m.byName.get(METRICS.breakerState.name)!.descriptor.unit).toBe('{herd}')
    expect(m.point(METRICS.breakerState.name, { [ATTR.breakerState]: 'open' }).value).toBe(1)
    expect(m.point(METRICS.breakerState.name, { [ATTR.breakerState]: 'closed' }).value).toBe(0)
    expect(m.points(METRICS.breakerTransitions.name)).toEqual([expect.objectContaining({ attributes: { [ATTR.breakerState]: 'open' }, value: 1 })])
    expect(m.point(METRICS.writes.name, { [ATTR.writeKind]: 'set' }).attributes[ATTR.writeOutcome]).toBe('local-only')
  })

  it("herd.local.entry.count follows the local tier's size", async () => {
    const t = telemetry()
    const h = herd()
    instrument(h, providers(t))
    for (const key of ['a', 'b', 'c']) await settle(h.fetch(key, slowLoader(key, 1)))
    let m = await t.collect()
    expect(m.byName.get(METRICS.localEntries.name)!.descriptor.unit).toBe('{entry}')
    expect(m.points(METRICS.localEntries.name)).toEqual([expect.objectContaining({ attributes: {}, value: 3 })])
    await h.delete('a')
    m = await t.collect()
    expect(m.points(METRICS.localEntries.name)[0]!.value).toBe(h.stats().local.size)
  })

  it("herd.local.size follows the local tier's bytes", async () => {
    const t = telemetry()
    const h = herd()
    instrument(h, providers(t))
    await h.set('big', 'x'.repeat(10_000))
    const m = await t.collect()
    expect(m.byName.get(METRICS.localBytes.name)!.descriptor.unit).toBe('By')
    expect(m.points(METRICS.localBytes.name)).toEqual([expect.objectContaining({ value: h.stats().local.bytes })])
    expect(h.stats().local.bytes).toBeGreaterThan(20_000)
  })

  it('herd.refresh.waiting: background refreshes waiting for a turn', async () => {
    const t = telemetry()
    const h = herd({ ttl: 100, staleWhileRevalidate: 60_000, jitter: 0, beta: 0, maxConcurrentRefreshes: 1 })
    instrument(h, providers(t))
    const keys = ['a', 'b', 'c']
    for (const key of keys) await settle(h.fetch(key, slowLoader(key, 1)))
    await advance(200)
    const opened = gate<void>()
    for (const key of keys) await h.fetch(key, () => opened.promise.then(() => key))
    let m = await t.collect()
    expect(m.byName.get(METRICS.refreshesWaiting.name)!.descriptor.unit).toBe('{refresh}')
    expect(m.points(METRICS.refreshesWaiting.name)).toEqual([expect.objectContaining({ attributes: {}, value: 2 })])
    opened.open(undefined)
    await advance(10)
    m = await t.collect()
    expect(m.points(METRICS.refreshesWaiting.name)[0]!.value).toBe(0)
  })

  it('herd.bus.messages: published by one herd, received by the other', async () => {
    const t = telemetry()
    const bus = memoryBus()
    const store = memoryStore()
    const a = herd({ store, bus })
    const b = herd({ store, bus })
    instrument(a, { ...providers(t), name: 'a' })
    instrument(b, { ...providers(t), name: 'b' })
    await a.set('k', 1)
    await advance(0)

    const m = await t.collect()
    expect(m.byName.get(METRICS.busMessages.name)!.descriptor.unit).toBe('{message}')
    expect(m.point(METRICS.busMessages.name, { [ATTR.name]: 'a' }).attributes).toMatchObject({ [ATTR.busDirection]: 'publish', [ATTR.busKind]: 'set' })
    expect(m.point(METRICS.busMessages.name, { [ATTR.name]: 'b' }).attributes).toMatchObject({ [ATTR.busDirection]: 'receive', [ATTR.busKind]: 'set' })
  })

  it('keys never become metric attributes; keyGroup gives herd.key.group, and a throwing keyGroup never breaks a fetch', async () => {
    const t = telemetry()
    const h = herd({ store: memoryStore(), lock: memoryLock() })
    instrument(h, { ...providers(t), keyGroup: (key) => key.split(':')[0] })
    for (const id of [1, 2, 3]) await settle(h.fetch(`user:${id}`, slowLoader(id, 1)))
    await h.set('page:/home', 'html')

    const m = await t.collect()
    const values = [...m.byName.keys()].flatMap((name) => m.points(name).flatMap((p) => Object.values(p.attributes)))
    for (const key of ['user:1', 'user:2', 'user:3', 'page:/home']) expect(values).not.toContain(key)
    expect(m.point(METRICS.fetches.name, { [ATTR.keyGroup]: 'user' }).value).toBe(3)
    expect(m.point(METRICS.loadDuration.name, { [ATTR.keyGroup]: 'user' }).value).toBe(3)
    expect(m.point(METRICS.writes.name, { [ATTR.keyGroup]: 'page' }).value).toBe(1)

    const t2 = telemetry()
    const other = herd()
    instrument(other, {
      ...providers(t2),
      keyGroup: () => {
        throw new Error('bad keyGroup')
      },
    })
    await expect(settle(other.fetch('k', slowLoader('v', 1)))).resolves.toBe('v')
    expect((await t2.collect()).point(METRICS.fetches.name, { [ATTR.fetchStatus]: 'miss' }).attributes).not.toHaveProperty(ATTR.keyGroup)
  })

  it('two unnamed herds on one meter add up: entries summed, breaker state counted per state', async () => {
    const t = telemetry()
    const a = herd()
    const b = herd()
    instrument(a, providers(t))
    instrument(b, providers(t))
    await settle(a.fetch('x', slowLoader(1, 1)))
    await settle(b.fetch('y', slowLoader(2, 1)))
    await settle(b.fetch('z', slowLoader(3, 1)))
    const m = await t.collect()
    expect(m.points(METRICS.localEntries.name)).toEqual([expect.objectContaining({ value: 3 })])
    expect(m.point(METRICS.breakerState.name, { [ATTR.breakerState]: 'closed' }).value).toBe(2)
    expect(m.point(METRICS.fetches.name, { [ATTR.fetchStatus]: 'miss' }).value).toBe(3)
  })
})
