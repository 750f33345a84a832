import { describe, expect, it, vi } from 'vitest'
import { HerdDecodeError, type Store, type StoredEntry, createHerd } from '../src/index.js'
import { advance, flush, settle, useFakeClock } from './support/clock.js'
import { countingLoader, gate } from './support/helpers.js'
import { MapLock } from './support/map-lock.js'
import { trackHerds } from './support/herds.js'
import { MapStore } from './support/map-store.js'

useFakeClock()
const track = trackHerds()

describe('what each tier hands back', () => {
  it('a later hit from the local tier equals what another process reads from the Store', async () => {
    const store = new MapStore()
    const one = track(createHerd({ store }))
    const other = track(createHerd({ store }))
    class Row {
      constructor(
        readonly id: number,
        readonly at: Date,
      ) {}
    }
    const loaded = { row: new Row(1, new Date(0)), missing: undefined, list: [1, undefined, 3] }
    // the callers of the load get the loader's own value
    await expect(settle(one.fetch('k', () => loaded))).resolves.toBe(loaded)
    const localHit = await one.fetch('k', countingLoader(null))
    const storeHit = await settle(other.fetch('k', countingLoader(null)))
    expect(localHit).toStrictEqual(storeHit)
    expect(localHit).toStrictEqual({ row: { id: 1, at: new Date(0) }, missing: undefined, list: [1, undefined, 3] })
  })

  it("a load's write is sent before its value is decoded for the local tier (the default codec can't fail to read it back)", async () => {
    const store = new MapStore()
    const order: string[] = []
    const set = store.set.bind(store)
    store.set = (key, entry, ttl) => {
      order.push('write sent')
      return set(key, entry, ttl)
    }
    const parse = JSON.parse
    const spy = vi.spyOn(JSON, 'parse').mockImplementation((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
      if (typeof text === 'string' && text.includes('marker-1')) order.push('decoded')
      return parse(text, reviver)
    })
    try {
      const herd = track(createHerd({ store }))
      await expect(settle(herd.fetch('k', () => ({ id: 'marker-1' })))).resolves.toEqual({ id: 'marker-1' })
      expect(order).toEqual(['write sent', 'decoded'])
      await expect(herd.fetch('k', countingLoader(null))).resolves.toEqual({ id: 'marker-1' }) // the local copy
      // Without a local tier nothing keeps a copy, and none is made.
      order.length = 0
      const storeOnly = track(createHerd({ store, local: false }))
      await settle(storeOnly.fetch('other', () => ({ id: 'marker-1' })))
      await new Promise((resolve) => setImmediate(resolve))
      expect(order).toEqual(['write sent'])
    } finally {
      spy.mockRestore()
    }
  })

  it("set() keeps the codec's copy: changing the object afterwards doesn't change the cache", async () => {
    const herd = track(createHerd())
    const value = { n: 1 }
    await herd.set('k', value)
    value.n = 2
    await expect(herd.get('k')).resolves.toEqual({ n: 1 })
  })

  it('a process sees its own set() after the backend lost its data (fences restarted)', async () => {
    const store = new MapStore()
    const lock = new MapLock()
    const herd = track(createHerd({ store, lock }))
    for (let i = 0; i < 5; i++) await herd.set('k', `before ${i}`)
    store.entries.clear()
    lock.loseData()
    await herd.set('k', 'after')
    await expect(herd.get('k')).resolves.toBe('after')
    await expect(herd.fetch('k', countingLoader('loader'))).resolves.toBe('after')
  })
})

describe('corrupt entries', () => {
  it('bytes a Store cannot parse are a miss plus a codec error; they never open the breaker', async () => {
    const store = new MapStore()
    const unreadable: Store = {
      get: async (key) => {
        if (key.startsWith('bad')) throw new HerdDecodeError('not a herd entry')
        return store.get(key)
      },
      set: (key, entry, ttl) => store.set(key, entry, ttl),
      delete: (key) => store.delete(key),
      expire: (key, at, fence) => store.expire(key, at, fence),
    }
    const herd = track(createHerd({ store: unreadable, local: false, breaker: { threshold: 2, resetAfter: '1m' } }))
    const errors: string[] = []
    herd.on('error', (e) => errors.push(e.source))
    const loader = countingLoader('v')
    await settle(Promise.all(Array.from({ length: 6 }, (_, i) => herd.fetch(`bad${i}`, loader))))
    expect(herd.stats().breaker.state).toBe('closed')
    expect(errors).toEqual(Array(6).fill('codec'))
    expect(loader.calls).toBe(6)
  })
})

describe('expire() and a load already in flight', () => {
  it.each([
    ['local tier only', () => ({})],
    ['a Store and a Lock', () => ({ store: new MapStore(), lock: new MapLock() })],
  ])('with %s: the expire wins; the load serves its callers but does not land fresh', async (_name, adapters) => {
    const a = adapters()
    const herd = track(createHerd({ ...a, staleWhileRevalidate: '1h', jitter: 0, beta: 0 }))
    await settle(herd.fetch('k', countingLoader('v1')))
    await herd.expire('k')
    const slow = gate<string>()
    // a refresh starts (stale served), then the key is expired again while it loads
    await expect(herd.fetch('k', () => slow.promise)).resolves.toBe('v1')
    await flush()
    await herd.expire('k')
    slow.open('loaded before the second expire')
    await flush()
    const next = await settle(herd.fetchEntry('k', countingLoader('v3')))
    expect(next.status).toBe('stale')
  })

  it('another process expiring the key while this one loads it: the load does not land fresh in the Store', async () => {
    const store = new MapStore()
    const lock = new MapLock()
    const loading = track(createHerd({ store, lock, staleWhileRevalidate: '1h', jitter: 0, beta: 0 }))
    const expiring = track(createHerd({ store, lock, staleWhileRevalidate: '1h', jitter: 0, beta: 0 }))
    const slow = gate<string>()
    const load = loading.fetch('k', () => slow.promise)
    await flush()
    await expiring.expire('k')
    slow.open('loaded before the expire')
    await expect(settle(load)).resolves.toBe('loaded before the expire')
    const held = store.entries.get('k')?.entry
    expect(held === undefined || held.freshUntil <= Date.now()).toBe(true)
  })
})

describe("a Store hit's own cost", () => {
  it('with no local tier, a Store hit sets no timer: the coarse clock (kept for local hits) would set one every millisecond', async () => {
    const store = new MapStore()
    const herd = track(createHerd({ store, local: false }))
    await settle(herd.fetch('k', () => 'v'))
    // Any coarse reading left by the fill is dropped, so a hit that reads the coarse clock would arm its timer again.
    await advance(2)
    const timers = vi.spyOn(globalThis, 'setTimeout')
    try {
      for (let i = 0; i < 3; i++) await expect(herd.fetch('k', countingLoader(null))).resolves.toBe('v')
      expect(timers).not.toHaveBeenCalled()
    } finally {
      timers.mockRestore()
    }
  })

  it("a Store hit answers its caller in the turn the Store's reply is handled: no async frame or promise of core's between", async () => {
    const store = new MapStore()
    const herd = track(createHerd({ store, local: false }))
    // ready() reads the namespace's tag record, so the measured hit has nothing of its own to wait for.
    await settle(herd.ready())
    await settle(herd.fetch('k', () => 'v'))
    const { entry } = store.entries.get('k')!
    // The entry's read, settled by hand (other reads, the tags' record, as they are): then count the microtask
    // turns until the caller has its value.
    let reply!: (stored: StoredEntry | undefined) => void
    const get = store.get.bind(store)
    store.get = (key) => (key === 'k' ? new Promise((resolve) => (reply = resolve)) : get(key))
    let answered = false
    const fetched = herd.fetch('k', countingLoader(null)).then((value) => {
      answered = true
      return value
    })
    reply(entry)
    let turns = 0
    while (!answered && turns < 20) {
      await Promise.resolve()
      turns++
    }
    await expect(fetched).resolves.toBe('v')
    // 2: the turn the reply is handled in answers the flight, the next runs the caller's callback. Awaiting the
    // read in an async frame took one more (and two promises of core's: the frame's and the guard's).
    expect(turns).toBeLessThanOrEqual(2)
  })
})

describe('one clock for the fleet', () => {
  it("with a Store that tells its time, entries are measured on the Store's clock, not this process's", async () => {
    const store = new MapStore()
    const clockOf = (skewMs: number): Store =>
      Object.assign(Object.create(store) as Store, {
        get: (key: string) => store.get(key),
        set: (key: string, entry: StoredEntry, ttl: number) => store.set(key, entry, ttl),
        time: async () => Date.now() + skewMs,
      })
    // This process's clock is a minute behind the Store's: without the Store's clock it would see entries fresh a minute too long.
    const behind = track(createHerd({ store: clockOf(60_000), local: false, ttl: '10s', jitter: 0, beta: 0 }))
    const onTime = track(createHerd({ store: clockOf(0), local: false, ttl: '10s', jitter: 0, beta: 0 }))
    await flush()
    await settle(onTime.fetch('k', countingLoader('v')))
    const entry = await settle(behind.fetchEntry('k', countingLoader('reloaded')))
    expect(entry).toMatchObject({ value: 'reloaded', status: 'miss' })
    // and what it writes is stamped on the Store's clock
    expect(store.entries.get('k')!.entry.createdAt - Date.now()).toBeCloseTo(60_000, -1)
  })

  it('only the skew that is certain is corrected: a slow round trip to a Store on the same clock changes nothing', async () => {
    const store = new MapStore()
    // The Store reads its clock as the request arrives and answers 200 ms later (a loaded machine): read alone, that
    // reading says this process runs 100 ms ahead. Within the round trip, it can't tell: no correction.
    const slowClock = (skewMs: number): Store =>
      Object.assign(Object.create(store) as Store, {
        set: (key: string, entry: StoredEntry, ttl: number) => store.set(key, entry, ttl),
        time: async () => {
          const read = Date.now() + skewMs
          await new Promise((resolve) => setTimeout(resolve, 200))
          return read
        },
      })
    const same = track(createHerd({ store: slowClock(0), local: false }))
    await advance(1_000) // the sync's readings
    const at = Date.now()
    await settle(same.set('same', 'v'))
    expect(store.entries.get('same')!.entry.createdAt).toBe(at)
    // A real skew beyond the round trip is corrected, to within half of it.
    const behind = track(createHerd({ store: slowClock(60_000), local: false }))
    await advance(1_000)
    const before = Date.now()
    await settle(behind.set('behind', 'v'))
    const corrected = store.entries.get('behind')!.entry.createdAt - before
    expect(corrected).toBeGreaterThanOrEqual(60_000 - 200)
    expect(corrected).toBeLessThanOrEqual(60_000)
  })
})
