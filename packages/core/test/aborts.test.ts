import { afterEach, describe, expect, it } from 'vitest'
import { createHerd, type Herd } from '../src/index.js'
import { advance, flush, settle, useFakeClock } from './support/clock.js'
import { countingLoader, gate } from './support/helpers.js'
import { MapLock } from './support/map-lock.js'
import { MapStore } from './support/map-store.js'

useFakeClock()
let herd: Herd
afterEach(() => herd?.close())

describe('callers that give up', () => {
  it('an already-aborted signal rejects at once with its reason: no load runs, nothing is cached', async () => {
    const store = new MapStore()
    herd = createHerd({ store })
    const loader = countingLoader('v')
    const reason = new Error('the client left before asking')
    await expect(herd.fetch('k', loader, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason)
    await expect(herd.fetchEntry('k', loader, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason)
    await flush()
    expect(loader.calls).toBe(0)
    expect(store.calls).toBe(0)
    await expect(herd.get('k')).resolves.toBeUndefined()
  })

  it("a caller without a signal is never rejected because of another caller's abort", async () => {
    herd = createHerd()
    const results: Array<Promise<string>> = []
    for (let i = 0; i < 30; i++) {
      const leaving = new AbortController()
      const key = `k${i}`
      const first = expect(herd.fetch(key, countingLoader('v', 50), { signal: leaving.signal })).rejects.toThrow('gone')
      await Promise.resolve()
      leaving.abort(new Error('gone'))
      // right after: the first caller's flight is winding down; this one must start (or join) a live one
      results.push(herd.fetch(key, countingLoader('v', 50)))
      await first
    }
    const settled = await settle(Promise.allSettled(results))
    expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(30)
  })

  it('a lease granted after every caller left is released, not orphaned', async () => {
    const lock = new MapLock()
    herd = createHerd({ lock })
    const acquire = gate()
    lock.acquireGate = acquire.promise
    const leaving = new AbortController()
    const first = herd.fetch('k', countingLoader('v'), { signal: leaving.signal })
    await flush()
    expect(lock.calls.acquire).toBe(1)
    leaving.abort(new Error('gone'))
    await expect(first).rejects.toThrow('gone')
    acquire.open()
    lock.acquireGate = undefined
    await flush()
    expect(lock.held('k')).toBe(false)
    // the next cold fetch anywhere gets the lease at once instead of waiting out the orphan's
    const other = createHerd({ lock })
    const loader = countingLoader('fresh')
    await expect(settle(other.fetch('k', loader), 10)).resolves.toBe('fresh')
    await other.close()
  })

  it('a lease granted after the hard timeout fired is released', async () => {
    const lock = new MapLock()
    herd = createHerd({ lock, hardTimeout: 50 })
    const acquire = gate()
    lock.acquireGate = acquire.promise
    const first = expect(herd.fetch('k', countingLoader('v'))).rejects.toThrow(/hard timeout/)
    await advance(60)
    await first
    acquire.open()
    await flush()
    expect(lock.held('k')).toBe(false)
  })

  it('a lease granted after operationTimeout gave up on acquire() is released when it arrives', async () => {
    const lock = new MapLock()
    herd = createHerd({ lock, operationTimeout: 20, breaker: false })
    const acquire = gate()
    lock.acquireGate = acquire.promise
    // the Lock is too slow: this caller loads on its own (in-process protection)
    await expect(settle(herd.fetch('k', countingLoader('v')))).resolves.toBe('v')
    acquire.open()
    await flush()
    expect(lock.held('k')).toBe(false)
  })
})
