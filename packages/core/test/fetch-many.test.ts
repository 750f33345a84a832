import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { type BatchLoader, HerdArgumentError, createHerd } from '../src/index.js'
import { advance, flush, settle, useFakeClock } from './support/clock.js'
import { gate } from './support/helpers.js'
import { trackHerds } from './support/herds.js'
import { MapLock } from './support/map-lock.js'
import { MapStore } from './support/map-store.js'

useFakeClock()
const track = trackHerds()

/** A batch loader that records every call's keys and answers `<key>@<call>`. */
function batchLoader(options: { missing?: (key: string) => boolean; ms?: number } = {}) {
  const calls: string[][] = []
  const loader: BatchLoader<string> = async (keys) => {
    calls.push([...keys])
    if (options.ms !== undefined) await new Promise((resolve) => setTimeout(resolve, options.ms))
    return new Map(keys.filter((key) => !options.missing?.(key)).map((key) => [key, `${key}@${calls.length}`]))
  }
  return { loader, calls }
}

const keys = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

describe('fetchMany', () => {
  it('loads the keys missing everywhere in one loader call; concurrent callers of the same keys share it', async () => {
    const store = new MapStore()
    const herd = track(createHerd({ store, lock: new MapLock() }))
    const { loader, calls } = batchLoader({ ms: 20 })
    const results = await settle(Promise.all(Array.from({ length: 10 }, () => herd.fetchMany(keys(100), loader))))
    expect(calls).toEqual([keys(100)])
    for (const values of results) expect(values).toEqual(keys(100).map((k) => `${k}@1`))
    expect(herd.stats()).toMatchObject({ loads: 1, misses: 100, coalesced: 900 })
  })

  it('600 fresh, 200 stale, 200 cold: one batch read, one loader call for the cold, one background batch for the stale', async () => {
    const store = new MapStore()
    const writer = track(createHerd({ store, ttl: '1m', staleWhileRevalidate: '1h', jitter: 0, beta: 0 }))
    await writer.fetchMany(keys(200, 's'), batchLoader().loader)
    await advance(61_000) // those 200 are stale now
    await writer.fetchMany(keys(600, 'f'), batchLoader().loader)
    const reader = track(createHerd({ store, ttl: '1m', staleWhileRevalidate: '1h', jitter: 0, beta: 0 }))
    let batchReads = 0
    const getMany = store.getMany.bind(store)
    store.getMany = (list) => {
      // (herd's own tag records, read once per local ttl, don't count)
      if (!list[0]!.startsWith('\0')) batchReads++
      return getMany(list)
    }
    const { loader, calls } = batchLoader()
    const asked = [...keys(600, 'f'), ...keys(200, 's'), ...keys(200, 'c')]
    const values = await settle(reader.fetchMany(asked, loader))
    await flush()
    expect(values.slice(0, 600)).toEqual(keys(600, 'f').map((k) => `${k}@1`))
    expect(values.slice(600, 800)).toEqual(keys(200, 's').map((k) => `${k}@1`)) // served stale
    expect(batchReads).toBe(1)
    expect(calls.map((c) => c.length).sort()).toEqual([200, 200]) // the cold ones, and the stale ones in the background
    expect(calls.find((c) => c[0] === 'c0')).toEqual(keys(200, 'c'))
    expect(calls.find((c) => c[0] === 's0')).toEqual(keys(200, 's'))
  })

  it('a key a single fetch is loading is joined, and a single fetch joins a key fetchMany is loading', async () => {
    const herd = track(createHerd())
    const single = gate<string>()
    const loading = herd.fetch('a', () => single.promise)
    const { loader, calls } = batchLoader({ ms: 10 })
    const many = herd.fetchMany(['a', 'b', 'c'], loader)
    await flush()
    const joining = herd.fetch('c', () => 'never called')
    single.open('a from fetch')
    await expect(settle(many)).resolves.toEqual(['a from fetch', 'b@1', 'c@1'])
    await expect(loading).resolves.toBe('a from fetch')
    await expect(joining).resolves.toBe('c@1')
    expect(calls).toEqual([['b', 'c']])
  })

  it('a key another process is loading is waited for, not loaded again', async () => {
    const store = new MapStore()
    const lock = new MapLock()
    const other = track(createHerd({ store, lock }))
    const herd = track(createHerd({ store, lock }))
    const slow = gate<string>()
    const elsewhere = other.fetch('b', () => slow.promise)
    await flush()
    const { loader, calls } = batchLoader()
    const many = herd.fetchMany(['a', 'b'], loader)
    await flush()
    slow.open('b from the other process')
    await expect(settle(many)).resolves.toEqual(['a@1', 'b from the other process'])
    await elsewhere
    expect(calls).toEqual([['a']])
  })

  it('missing keys are "not found" (negative entries), unknown keys are ignored, duplicates answered twice', async () => {
    const herd = track(createHerd())
    const { loader, calls } = batchLoader({ missing: (key) => key === 'gone' })
    await expect(settle(herd.fetchMany(['a', 'gone', 'a', 'b'], loader))).resolves.toEqual(['a@1', undefined, 'a@1', 'b@1'])
    expect(calls).toEqual([['a', 'gone', 'b']])
    await expect(herd.fetchMany(['gone'], loader)).resolves.toEqual([undefined])
    expect(calls).toHaveLength(1) // the negative entry was cached
    const extra: BatchLoader<string> = async () =>
      new Map([
        ['x', 'x'],
        ['not asked', 'ignored'],
      ])
    await expect(settle(herd.fetchMany(['x'], extra))).resolves.toEqual(['x'])
    await expect(herd.get('not asked')).resolves.toBeUndefined()
  })

  it('an array answer must be aligned with the keys', async () => {
    const herd = track(createHerd())
    await expect(settle(herd.fetchMany(['a', 'b'], async (ks) => ks.map((k) => k.toUpperCase())))).resolves.toEqual(['A', 'B'])
    await expect(settle(herd.fetchMany(['c', 'd'], async () => ['only one']))).rejects.toThrow(/array of 1 for 2 keys/)
    await expect(settle(herd.fetchMany(['e'], async () => 'nope' as never))).rejects.toThrow(/Map or an array/)
  })

  it('a throw fails only the keys it was loading; a key with a value inside staleIfError is served stale', async () => {
    const herd = track(createHerd({ ttl: 100, staleIfError: '1h', jitter: 0, beta: 0 }))
    await settle(herd.fetchMany(['old'], batchLoader().loader))
    await advance(200)
    await herd.set('cached', 'fresh')
    const failing: BatchLoader<string> = async () => {
      throw new Error('db down')
    }
    await expect(settle(herd.fetchMany(['old', 'cached'], failing))).resolves.toEqual(['old@1', 'fresh'])
    await expect(settle(herd.fetchMany(['cold', 'cached'], failing))).rejects.toThrow('db down')
    await expect(herd.get('cached')).resolves.toBe('fresh')
  })

  it('maxBatch splits a miss into loader calls of at most that many keys', async () => {
    const herd = track(createHerd())
    const { loader, calls } = batchLoader()
    await settle(herd.fetchMany(keys(250), loader, { maxBatch: 100 }))
    expect(calls.map((c) => c.length)).toEqual([100, 100, 50])
  })

  it('each key is written with its own fence', async () => {
    const store = new MapStore()
    const herd = track(createHerd({ store, lock: new MapLock() }))
    await settle(herd.fetchMany(keys(5), batchLoader().loader))
    const fences = keys(5).map((k) => store.entries.get(k)!.entry.fence)
    expect(new Set(fences).size).toBe(5)
  })

  it('batch(): single fetches within batchWindow become one loader call', async () => {
    const herd = track(createHerd())
    const { loader, calls } = batchLoader()
    const users = herd.batch(loader, { batchWindow: '2ms', ttl: '1m' })
    const fetched = keys(50).map((k) => users.fetch(k))
    await advance(2)
    await expect(settle(Promise.all(fetched))).resolves.toEqual(keys(50).map((k) => `${k}@1`))
    expect(calls).toEqual([keys(50)])
    await expect(users.fetch('k3')).resolves.toBe('k3@1') // a later single fetch of a fresh key: answered at once, no window
    const leaving = new AbortController()
    const left = users.fetch('late', { signal: leaving.signal })
    leaving.abort(new Error('gone'))
    await expect(left).rejects.toThrow('gone')
  })

  it('batch(): a script whose only pending work is a batch window still gets its answer (the window keeps the process alive)', async () => {
    // A real process: an unref'd window timer would let Node exit with the fetch pending, printing nothing.
    const script = `
      import { createHerd } from '@herd/core'
      const herd = createHerd()
      const users = herd.batch((keys) => keys.map((k) => k + '!'), { batchWindow: '5ms' })
      console.log(await users.fetch('answer'))
      await herd.close()`
    const child = spawnSync(process.execPath, ['--conditions=@herd/source', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect({ out: child.stdout.trim(), err: child.stderr, status: child.status }).toEqual({ out: 'answer!', err: '', status: 0 })
  })

  it('getMany reads without loading, aligned with the keys', async () => {
    const store = new MapStore()
    const herd = track(createHerd({ store }))
    await herd.set('a', 1)
    const other = track(createHerd({ store }))
    await other.set('b', 2)
    await expect(herd.getMany(['a', 'b', 'none', 'a'])).resolves.toEqual([1, 2, undefined, 1])
  })

  it('rejects bad input at the call', async () => {
    const herd = track(createHerd())
    const { loader, calls } = batchLoader()
    await expect(herd.fetchMany('a' as never, loader)).rejects.toThrow(HerdArgumentError)
    await expect(herd.fetchMany(['a', ''], loader)).rejects.toThrow(HerdArgumentError)
    await expect(herd.fetchMany(['a'], 'x' as never)).rejects.toThrow(HerdArgumentError)
    await expect(herd.fetchMany(['a'], loader, { maxBatch: 0 })).rejects.toThrow(/maxBatch/)
    await expect(herd.fetchMany(['a'], loader, { swr: 1 } as never)).rejects.toThrow(/unknown option "swr"/)
    await expect(herd.getMany([42] as never)).rejects.toThrow(HerdArgumentError)
    expect(() => herd.batch(loader, { batchWindow: 'soon' })).toThrow(/batchWindow/)
    expect(calls).toHaveLength(0)
  })
})
