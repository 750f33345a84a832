import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { HerdUnavailableError, createHerd } from '../src/index.js'
import { advance, flush, settle, useFakeClock } from './support/clock.js'
import { countingLoader } from './support/helpers.js'
import { trackHerds } from './support/herds.js'
import { MapStore } from './support/map-store.js'
import { busNetwork, connection } from './support/outage.js'

useFakeClock()
const track = trackHerds()

/** Two processes on one Store and Bus; `cutOff` can be cut from both. */
function fleet(options: Parameters<typeof createHerd>[0] = {}) {
  const store = new MapStore()
  const network = busNetwork()
  const link = { store: connection(store), bus: network.connect() }
  const cut = (on: boolean) => {
    link.store.cut = on
    link.bus.cut = on
  }
  const common = { jitter: 0, beta: 0, local: { ttl: '5s' }, breaker: { threshold: 1, resetAfter: '1s' }, ...options }
  const cutOff = track(createHerd({ store: link.store, bus: link.bus, ...common }))
  const other = track(createHerd({ store: connection(store), bus: network.connect(), ...common }))
  return { store, network, cutOff, other, cut }
}

describe('writes and invalidations during an outage', () => {
  it('the cut-off process reads its own writes at once; after recovery the others read the new state; nothing old comes back', async () => {
    const { cutOff, other, cut } = fleet({ staleWhileRevalidate: '1h' })
    await flush()
    for (const key of ['deleted', 'set', 'expired']) await other.set(key, `${key}: old`)
    await flush()
    for (const key of ['deleted', 'set', 'expired']) await expect(settle(cutOff.get(key))).resolves.toBe(`${key}: old`)
    cut(true)
    await cutOff.delete('deleted')
    await cutOff.set('set', 'set: new')
    await cutOff.expire('expired')
    expect(cutOff.stats().recovery).toMatchObject({ pending: 3, queued: 3 })
    // read-your-writes for the whole outage, also once the local copies have lapsed
    for (let t = 0; t < 3_000; t += 500) {
      await expect(settle(cutOff.fetch('deleted', countingLoader('reloaded')))).resolves.toBe('reloaded')
      await cutOff.delete('deleted')
      await expect(cutOff.get('set')).resolves.toBe('set: new')
      // the expired key is served stale once and refreshed (from this process, while cut off): never the old value as fresh
      const expired = await settle(cutOff.fetchEntry('expired', countingLoader('refreshed')))
      expect(expired.status === 'hit' && expired.value === 'expired: old').toBe(false)
      await advance(500)
    }
    // the other process still has the old state while the cut-off one can't tell it
    await expect(other.get('set')).resolves.toBe('set: old')
    cut(false)
    await advance(1_100) // the breaker probes, closes, and the queue replays in order
    await flush()
    expect(cutOff.stats().recovery).toMatchObject({ pending: 0, replayed: expect.any(Number) })
    await expect(settle(other.get('deleted'))).resolves.toBeUndefined()
    await expect(settle(other.get('set'))).resolves.toBe('set: new')
    await expect(settle(other.fetchEntry('expired', countingLoader('x')))).resolves.toMatchObject({ status: 'stale' })
  })

  it('a write another process makes after the outage write survives the replay', async () => {
    const { cutOff, other, cut } = fleet()
    await flush()
    cut(true)
    await cutOff.set('k', 'written during the outage')
    await cutOff.delete('gone')
    await advance(10)
    await other.set('k', 'written later elsewhere')
    await other.set('gone', 'recreated later elsewhere')
    cut(false)
    await advance(1_100)
    await flush()
    await expect(settle(other.get('k'))).resolves.toBe('written later elsewhere')
    await expect(settle(other.get('gone'))).resolves.toBe('recreated later elsewhere')
    await advance(5_001) // the cut-off process's own copies lapse: it reads the fleet's state
    await expect(settle(cutOff.get('k'))).resolves.toBe('written later elsewhere')
    expect(cutOff.stats().recovery).toMatchObject({ superseded: 2, pending: 0 })
  })

  it('tag invalidations and clear() are replayed too', async () => {
    const { cutOff, other, cut } = fleet()
    await flush()
    await settle(other.fetch('a', () => 'a', { tags: ['t'] }))
    await settle(other.fetch('b', () => 'b'))
    cut(true)
    await cutOff.deleteTags(['t'])
    await cutOff.clear()
    expect(cutOff.stats().recovery.pending).toBe(2)
    cut(false)
    await advance(1_100)
    await flush()
    await expect(settle(other.get('a'))).resolves.toBeUndefined()
    await expect(settle(other.get('b'))).resolves.toBeUndefined()
  })

  it('strict calls reject while the Store is down and resolve once it is back', async () => {
    const { cutOff, cut } = fleet()
    await flush()
    await cutOff.set('k', 'before')
    cut(true)
    await expect(cutOff.set('k', 'strict', { strict: true })).rejects.toBeInstanceOf(HerdUnavailableError)
    await expect(cutOff.set('k', 'strict', { strict: true })).rejects.toMatchObject({ code: 'HERD_UNAVAILABLE', operation: 'set', key: 'k' })
    await expect(cutOff.get('k')).resolves.toBe('before') // a strict set that failed changed nothing
    await expect(cutOff.delete('k', { strict: true })).rejects.toThrow(HerdUnavailableError)
    await expect(cutOff.expire('k', { strict: true })).rejects.toThrow(HerdUnavailableError)
    await expect(cutOff.expireTags(['t'], { strict: true })).rejects.toThrow(HerdUnavailableError)
    await expect(cutOff.clear({ strict: true })).rejects.toThrow(HerdUnavailableError)
    expect(cutOff.stats().recovery.queued).toBe(0)
    cut(false)
    await advance(1_100)
    await expect(cutOff.set('k', 'strict', { strict: true })).resolves.toBeUndefined()
    await expect(cutOff.delete('k', { strict: true })).resolves.toBeUndefined()
    await expect(cutOff.set('k', 1, { strict: 'yes' as never })).rejects.toThrow(/strict must be a boolean/)
    await expect(cutOff.delete('k', { stritc: true } as never)).rejects.toThrow(/unknown option "stritc"/)
  })

  it('the queue is bounded: 100,000 keys deleted during an outage keep at most maxOperations, and the drops are reported', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const { cutOff, cut } = fleet({ recovery: { maxOperations: 1_000 } })
    await flush()
    const dropped: string[] = []
    cutOff.on('recovery', (e) => {
      if (e.action === 'dropped') dropped.push(e.key)
    })
    cut(true)
    gc()
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < 100_000; i++) await cutOff.delete(`k${i}`)
    gc()
    const grown = process.memoryUsage().heapUsed - before
    expect(cutOff.stats().recovery).toMatchObject({ pending: 1_000, queued: 100_000, dropped: 99_000 })
    expect(dropped[0]).toBe('k0')
    expect(dropped.at(-1)).toBe('k98999')
    // the local tier's tombstones are bounded by local.maxSize; the queue by maxOperations
    expect(grown).toBeLessThan(16 * 1024 * 1024)
  })

  it('close() during an outage leaves no timer, and reports what it drops', async () => {
    const { cutOff, cut } = fleet()
    await flush()
    cut(true)
    await cutOff.delete('a')
    await cutOff.set('b', 1)
    const dropped: string[] = []
    cutOff.on('recovery', (e) => e.action === 'dropped' && dropped.push(e.operation))
    await cutOff.close()
    expect(dropped.sort()).toEqual(['delete', 'set'])
    expect(cutOff.stats().recovery.pending).toBe(0)
  })
})
