import { describe, expect, it, vi } from 'vitest'
import { type Bus, type BusListener, type BusMessage, HerdArgumentError, type Store, createHerd } from '../src/index.js'
import { advance, flush, settle, useFakeClock } from './support/clock.js'
import { countingLoader, gate } from './support/helpers.js'
import { trackHerds } from './support/herds.js'
import { MapLock } from './support/map-lock.js'
import { MapStore } from './support/map-store.js'

useFakeClock()
const track = trackHerds()

/** An in-process Bus shared by the herds of a test, as Redis pub/sub would be. */
function sharedBus(): Bus & { published: BusMessage[] } {
  const listeners = new Set<BusListener>()
  const published: BusMessage[] = []
  return {
    published,
    async publish(message) {
      published.push(message)
      for (const listener of [...listeners]) queueMicrotask(() => listener({ ...message }))
    },
    async subscribe(listener) {
      listeners.add(listener)
      return async () => void listeners.delete(listener)
    },
  }
}

/** A Store that counts its commands. */
function counted(store: MapStore): Store & { commands: number } {
  const wrapped = {
    commands: 0,
    get: (key: string) => (wrapped.commands++, store.get(key)),
    set: (key: string, entry: Parameters<Store['set']>[1], ttl: number) => (wrapped.commands++, store.set(key, entry, ttl)),
    delete: (key: string) => (wrapped.commands++, store.delete(key)),
    expire: (key: string, at: number, fence?: number) => (wrapped.commands++, store.expire(key, at, fence)),
  }
  return wrapped
}

const setups = [
  ['local tier only', () => ({})],
  ['a Store', () => ({ store: new MapStore() })],
  ['a Store and a Lock', () => ({ store: new MapStore(), lock: new MapLock() })],
] as const

describe.each(setups)('tags (%s)', (_name, adapters) => {
  it('expireTags: every entry with the tag is served stale once and refreshed once; others stay fresh', async () => {
    const herd = track(createHerd({ ...adapters(), staleWhileRevalidate: '1h', jitter: 0, beta: 0 }))
    const loads = new Map<string, number>()
    const loader = ({ key }: { key: string }) => {
      loads.set(key, (loads.get(key) ?? 0) + 1)
      return `${key}#${loads.get(key)}`
    }
    // tags describe what each call's load writes: a key's every fetch passes them
    const p1 = { tags: ['products', 'product:1'] }
    const p2 = { tags: ['products', 'product:2'] }
    await settle(herd.fetch('p1', loader, p1))
    await settle(herd.fetch('p2', loader, p2))
    await settle(herd.fetch('u1', loader, { tags: ['users'] }))
    await herd.expireTags(['product:1'])
    await advance(1) // a load starting in the same millisecond as an invalidation counts as before it
    await expect(herd.fetchEntry('p1', loader, p1)).resolves.toMatchObject({ value: 'p1#1', status: 'stale' })
    await flush()
    await expect(settle(herd.fetchEntry('p1', loader, p1))).resolves.toMatchObject({ value: 'p1#2', status: 'hit' })
    await expect(herd.fetchEntry('p2', loader, p2)).resolves.toMatchObject({ value: 'p2#1', status: 'hit' })
    await herd.expireTags(['products'])
    await advance(1)
    await expect(herd.fetch('p2', loader, p2)).resolves.toBe('p2#1')
    await expect(herd.fetch('p1', loader, p1)).resolves.toBe('p1#2')
    await flush()
    await expect(settle(herd.fetch('p2', loader, p2))).resolves.toBe('p2#2')
    await expect(settle(herd.fetch('p1', loader, p1))).resolves.toBe('p1#3')
    await expect(herd.fetchEntry('u1', loader)).resolves.toMatchObject({ value: 'u1#1', status: 'hit' })
    expect(Object.fromEntries(loads)).toEqual({ p1: 3, p2: 2, u1: 1 })
  })

  it('deleteTags: every entry with the tag is gone; the next read waits for one load', async () => {
    const herd = track(createHerd({ ...adapters(), staleWhileRevalidate: '1h', jitter: 0, beta: 0 }))
    const loader = countingLoader((n: number) => `v${n}`)
    await settle(herd.fetch('a', loader, { tags: ['t'] }))
    await settle(herd.fetch('b', loader))
    await herd.deleteTags(['t'])
    await expect(herd.get('a')).resolves.toBeUndefined()
    const reads = await settle(Promise.all([herd.fetchEntry('a', loader), herd.fetchEntry('a', loader)]))
    expect(reads.map((r) => [r.value, r.status])).toEqual([
      ['v3', 'miss'],
      ['v3', 'miss'],
    ])
    await expect(herd.fetch('b', loader)).resolves.toBe('v2')
    expect(loader.calls).toBe(3)
  })

  it('a fetch right after expireTags resolves sees it, even when the hit path’s clock reading is a millisecond old', async () => {
    const herd = track(createHerd({ ...adapters(), staleWhileRevalidate: '1h', jitter: 0, beta: 0 }))
    const loader = countingLoader('v')
    await settle(herd.fetch('k', loader, { tags: ['t'] }))
    await expect(herd.fetchEntry('k', loader, { tags: ['t'] })).resolves.toMatchObject({ status: 'hit' }) // reads the clock
    vi.setSystemTime(Date.now() + 1) // the wall clock moves on; the hit path's cached reading has not been dropped yet
    await herd.expireTags(['t'])
    await expect(herd.fetchEntry('k', loader, { tags: ['t'] })).resolves.toMatchObject({ status: 'stale' })
  })

  it('a load in flight when expireTags runs does not land fresh', async () => {
    const herd = track(createHerd({ ...adapters(), staleWhileRevalidate: '1h', jitter: 0, beta: 0 }))
    const slow = gate<string>()
    const inFlight = herd.fetch('k', () => slow.promise, { tags: ['t'] })
    await advance(5)
    await herd.expireTags(['t'])
    slow.open('loaded before the expire')
    await expect(settle(inFlight)).resolves.toBe('loaded before the expire') // its callers asked before
    await expect(herd.fetchEntry('k', countingLoader('after'))).resolves.toMatchObject({ status: 'stale' })
  })

  it('a load in flight when deleteTags or clear runs does not land at all', async () => {
    for (const invalidate of [(h: ReturnType<typeof createHerd>) => h.deleteTags(['t']), (h: ReturnType<typeof createHerd>) => h.clear()]) {
      const herd = track(createHerd({ ...adapters(), jitter: 0, beta: 0 }))
      const slow = gate<string>()
      const inFlight = herd.fetch('k', () => slow.promise, { tags: ['t'] })
      await advance(5)
      await invalidate(herd)
      slow.open('old')
      await settle(inFlight)
      await expect(herd.get('k')).resolves.toBeUndefined()
    }
  })

  it('ctx.setTags adds tags from what was loaded; set() takes tags too', async () => {
    const herd = track(createHerd({ ...adapters(), jitter: 0, beta: 0 }))
    await settle(
      herd.fetch(
        'k',
        (ctx) => {
          ctx.setTags(['from-row'])
          return 'loaded'
        },
        { tags: ['from-call'] },
      ),
    )
    await herd.set('s', 'set value', { tags: ['from-set'] })
    await herd.deleteTags(['from-row'])
    await expect(herd.get('k')).resolves.toBeUndefined()
    await herd.fetch('k', () => 'again', { tags: ['from-call'] })
    await herd.deleteTags(['from-call'])
    await expect(herd.get('k')).resolves.toBeUndefined()
    await expect(herd.get('s')).resolves.toBe('set value')
    await herd.deleteTags(['from-set'])
    await expect(herd.get('s')).resolves.toBeUndefined()
  })

  it('stale-if-error still serves an entry whose tag was expired: staleness, not deletion', async () => {
    const herd = track(createHerd({ ...adapters(), staleIfError: '1h', jitter: 0, beta: 0 }))
    await settle(herd.fetch('k', () => 'old', { tags: ['t'] }))
    await herd.expireTags(['t'])
    await expect(settle(herd.fetchEntry('k', () => Promise.reject(new Error('db down'))))).resolves.toMatchObject({ value: 'old', status: 'stale' })
  })

  it('clear() removes every entry of the namespace', async () => {
    const herd = track(createHerd({ ...adapters(), jitter: 0, beta: 0 }))
    await settle(herd.fetch('a', () => 1))
    await settle(herd.fetch('b', () => 2, { tags: ['t'] }))
    await herd.clear()
    await expect(herd.get('a')).resolves.toBeUndefined()
    await expect(herd.get('b')).resolves.toBeUndefined()
    await advance(1)
    await expect(settle(herd.fetch('a', () => 3))).resolves.toBe(3)
    await expect(herd.get('a')).resolves.toBe(3)
  })
})

describe('across processes', () => {
  it('expireTags in one process: the other sees it at once over the Bus, and refreshes each key once in total', async () => {
    const store = new MapStore()
    const lock = new MapLock()
    const bus = sharedBus()
    const herds = [0, 1].map(() => track(createHerd({ store, lock, bus, staleWhileRevalidate: '1h', jitter: 0, beta: 0, local: { ttl: '1h' } })))
    await flush()
    const loader = countingLoader((n: number) => `v${n}`)
    for (const herd of herds) for (let i = 0; i < 20; i++) await settle(herd.fetch(`k${i}`, loader, { tags: ['all'] }))
    expect(loader.calls).toBe(20)
    await herds[0]!.expireTags(['all'])
    await flush()
    const answers = await settle(Promise.all(herds.flatMap((herd) => Array.from({ length: 20 }, (_, i) => herd.fetchEntry(`k${i}`, loader)))))
    expect(answers.every((a) => a.status === 'stale')).toBe(true)
    await settle(Promise.all(herds.flatMap((herd) => Array.from({ length: 20 }, (_, i) => herd.fetch(`k${i}`, loader)))))
    for (let round = 0; round < 3; round++) {
      await advance(1_100) // past any hold-off: a process that stepped back reads what the other refreshed
      await settle(Promise.all(herds.flatMap((herd) => Array.from({ length: 20 }, (_, i) => herd.fetch(`k${i}`, loader)))))
    }
    expect(loader.calls).toBe(40)
  })

  it('without the Bus, the other process learns it from the tag records within its local ttl', async () => {
    const store = new MapStore()
    const writer = track(createHerd({ store, jitter: 0, beta: 0, local: { ttl: '5s' } }))
    const reader = track(createHerd({ store, jitter: 0, beta: 0, local: { ttl: '5s' } }))
    await settle(reader.fetch('k', () => 'old', { tags: ['t'] }))
    await writer.deleteTags(['t'])
    await advance(5_001)
    await expect(settle(reader.fetch('k', () => 'new', { tags: ['t'] }))).resolves.toBe('new')
  })

  it('one write and one message per tag, whatever the number of entries', async () => {
    const raw = new MapStore()
    const store = counted(raw)
    const bus = sharedBus()
    const herd = track(createHerd({ store, bus }))
    for (let i = 0; i < 1_000; i++) await settle(herd.fetch(`k${i}`, () => i, { tags: ['many'] }))
    const before = store.commands
    const messages = bus.published.length
    await herd.expireTags(['many'])
    expect(store.commands - before).toBe(1)
    expect(bus.published.length - messages).toBe(1)
    await herd.deleteTags(['many', 'other'])
    expect(store.commands - before).toBe(3)
  })
})

/**
 * A Store whose batch reads (herd reads tag records with getMany) can be held
 * one by one, and a Bus whose subscription can be made to come back after a
 * gap, as a reconnect does.
 */
function recordsHeldBack() {
  const raw = new MapStore()
  const held: Array<() => void> = []
  let hold = false
  let resubscribed: (() => void) | undefined
  const store: Store & { recordReads: number } = {
    recordReads: 0,
    get: (key) => raw.get(key),
    set: (key, entry, ttl) => raw.set(key, entry, ttl),
    delete: (key) => raw.delete(key),
    expire: (key, at, fence) => raw.expire(key, at, fence),
    async getMany(keys) {
      store.recordReads++
      if (hold) await new Promise<void>((release) => held.push(release))
      return raw.getMany(keys)
    },
  }
  const bus: Bus & { gap(): void } = {
    async publish() {},
    async subscribe(_listener, options) {
      resubscribed = options?.onResubscribe
      return async () => {}
    },
    gap: () => resubscribed?.(),
  }
  return {
    store,
    bus,
    hold: (on: boolean) => {
      hold = on
    },
    /** Lets the oldest held read go on. */
    releaseOne: () => held.shift()?.(),
  }
}

/** Whether `promise` has settled once every pending callback has run (the clock doesn't move). */
async function settledYet(promise: Promise<unknown>): Promise<boolean> {
  let done = false
  void promise.then(
    () => (done = true),
    () => (done = true),
  )
  await flush()
  return done
}

describe('tag records', () => {
  it('a read waits for them only past their window (the local ttl); past half of it they are read again in the background', async () => {
    const { store, hold, releaseOne } = recordsHeldBack()
    const herd = track(createHerd({ store, local: false, jitter: 0, beta: 0 }))
    await settle(herd.fetch('k', () => 'v')) // a miss: loaded and written, no entry read
    expect(store.recordReads).toBe(0)
    await settle(herd.fetch('k', () => 'v'))
    expect(store.recordReads).toBe(1) // never read: the first entry read waited for them
    await advance(2_000)
    await settle(herd.fetch('k', () => 'v'))
    expect(store.recordReads).toBe(1) // young: nothing read
    await advance(1_000) // 3 s old: past half of the 5 s window
    hold(true)
    expect(await settledYet(herd.fetch('k', () => 'v'))).toBe(true) // answered without waiting for them…
    expect(store.recordReads).toBe(2) // …while they are read again
    expect(await settledYet(herd.fetch('k', () => 'v'))).toBe(true)
    expect(store.recordReads).toBe(2) // one read at a time
    releaseOne()
    await flush()
    await advance(2_000) // 2 s after that read
    expect(await settledYet(herd.fetch('k', () => 'v'))).toBe(true)
    expect(store.recordReads).toBe(2)
    await advance(10_000) // past the window: the next read waits
    const late = herd.fetch('k', () => 'v')
    expect(await settledYet(late)).toBe(false)
    expect(store.recordReads).toBe(3)
    releaseOne()
    expect(await settledYet(late)).toBe(true)
  })

  it('ready() reads the namespace record, so the first read after it waits for nothing', async () => {
    const { store, bus, hold, releaseOne } = recordsHeldBack()
    const herd = track(createHerd({ store, bus, local: false }))
    hold(true)
    const ready = herd.ready()
    await herd.set('k', 'v')
    expect(await settledYet(ready)).toBe(false) // the Bus listens; the record is being read
    expect(store.recordReads).toBe(1)
    releaseOne()
    await expect(ready).resolves.toBe(true)
    expect(await settledYet(herd.fetch('k', () => 'v'))).toBe(true)
    expect(store.recordReads).toBe(1)
  })

  it('a record read begun before a Bus gap is not trusted after it: the gap reads them again at once, and reads wait for that', async () => {
    const { store, bus, hold, releaseOne } = recordsHeldBack()
    const herd = track(createHerd({ store, bus, local: false }))
    await settle(herd.ready())
    for (const key of ['a', 'b']) await settle(herd.fetch(key, () => key)) // misses: written, nothing read
    await advance(6_000) // past the window
    hold(true)
    const before = herd.fetch('a', () => 'a') // waits for a read of the records (#2)
    expect(await settledYet(before)).toBe(false)
    bus.gap() // messages may have been lost meanwhile: the namespace's record is read again at once (#3)
    expect(store.recordReads).toBe(3)
    releaseOne() // #2 lands, begun before the gap
    expect(await settledYet(before)).toBe(true)
    const after = herd.fetch('b', () => 'b')
    expect(await settledYet(after)).toBe(false) // #2 proves nothing past the gap: this read waits for #3
    expect(store.recordReads).toBe(3)
    releaseOne()
    expect(await settledYet(after)).toBe(true)
  })
})

describe('namespaces', () => {
  it('two namespaces on one Store and one Bus never see each other; clear() is scoped', async () => {
    const store = new MapStore()
    const bus = sharedBus()
    const a = track(createHerd({ store, bus, namespace: 'catalog:v1' }))
    const b = track(createHerd({ store, bus, namespace: 'catalog:v2' }))
    const plain = track(createHerd({ store, bus }))
    await flush()
    await a.set('k', 'a')
    await b.set('k', 'b')
    await plain.set('k', 'plain')
    await expect(a.get('k')).resolves.toBe('a')
    await expect(b.get('k')).resolves.toBe('b')
    await a.clear()
    await flush()
    await expect(a.get('k')).resolves.toBeUndefined()
    await expect(b.get('k')).resolves.toBe('b')
    await expect(plain.get('k')).resolves.toBe('plain')
    await b.deleteTags(['x'])
    await expect(settle(b.fetch('k', () => 'loader'))).resolves.toBe('b')
  })
})

describe('bad input', () => {
  it('is rejected at the call with a HerdArgumentError', async () => {
    const herd = track(createHerd())
    const loader = countingLoader('v')
    for (const tags of [[''], [1], 'products', [null], Array.from({ length: 65 }, (_, i) => `t${i}`)]) {
      await expect(herd.fetch('k', loader, { tags: tags as never })).rejects.toThrow(HerdArgumentError)
      await expect(herd.set('k', 1, { tags: tags as never })).rejects.toThrow(HerdArgumentError)
    }
    await expect(herd.expireTags('products' as never)).rejects.toThrow(/expireTags\(\) must be an array/)
    await expect(herd.deleteTags([''])).rejects.toThrow(/non-empty strings/)
    await expect(
      herd.fetch('k', (ctx) => {
        ctx.setTags([42 as never])
        return 1
      }),
    ).rejects.toThrow(/setTags/)
    await expect(herd.fetch('\0k', loader)).rejects.toThrow(/U\+0000/)
    expect(() => createHerd({ namespace: 'a\0b' })).toThrow(/namespace/)
    expect(() => createHerd({ namespace: 42 as never })).toThrow(/namespace/)
    expect(loader.calls).toBe(0)
  })
})
