import { describe, expect, it } from 'vitest'
import { createHerd } from '../src/index.js'
import { flush, settle, useFakeClock } from './support/clock.js'
import { fusedMapLock } from './support/fused-map-lock.js'
import { countingLoader, gate } from './support/helpers.js'
import { trackHerds } from './support/herds.js'
import { MapStore } from './support/map-store.js'
import { connection } from './support/outage.js'

useFakeClock()
const track = trackHerds()
const shared = { local: false } as const

/**
 * A fused Lock's readOrAcquire (the read that takes the lease, used while a
 * process's reads mostly miss, as a fresh herd's do): what the read claims
 * is the fill's to use or to give back.
 */
describe('a read that takes the lease', () => {
  it('a cold key: the read takes the lease and the fill uses it; another process that read it held waits for that fill', async () => {
    const store = new MapStore()
    const lock = fusedMapLock(store)
    const a = track(createHerd({ store, lock, ttl: '1h', jitter: 0 }))
    const b = track(createHerd({ store, lock, ttl: '1h', jitter: 0 }))
    const loading = gate<string>()
    const loader = Object.assign(
      async () => {
        loader.calls++
        return loading.promise
      },
      { calls: 0 },
    )
    const first = a.fetch('k', loader, shared)
    await flush()
    const second = b.fetch('k', loader, shared)
    await flush()
    // Both reads tried to take the lease (one acquire each), one got it; nobody acquired again after reading.
    expect(lock.calls.acquire).toBe(2)
    loading.open('v')
    await expect(settle(first)).resolves.toBe('v')
    await expect(settle(second)).resolves.toBe('v')
    expect(loader.calls).toBe(1)
    expect(b.stats().lockWaits).toBe(1)
    expect(lock.calls.release).toBe(1)
    expect(lock.leases.size).toBe(0)
  })

  it('a lease the read took is given back when the read is answered anyway (a write of this process still waiting to reach the Store)', async () => {
    const store = new MapStore()
    const link = connection(store)
    const lock = fusedMapLock(link)
    // No breaker: the first call after the outage is the read itself, and the queued write is not replayed before it.
    const herd = track(createHerd({ store: link, lock, ttl: '1h', jitter: 0, breaker: false }))
    link.cut = true
    await herd.set('k', 'written during the outage')
    expect(herd.stats().recovery.pending).toBe(1)
    link.cut = false
    const loader = countingLoader('loaded')
    // The Store has nothing for the key, so the read takes the lease; this process's own pending write answers it.
    await expect(settle(herd.fetch('k', loader, shared))).resolves.toBe('written during the outage')
    await flush()
    expect(loader.calls).toBe(0)
    expect(lock.calls.acquire).toBe(1)
    expect(lock.calls.release).toBe(1)
    expect(lock.leases.size).toBe(0)
  })
})
