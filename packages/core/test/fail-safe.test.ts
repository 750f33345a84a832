import { afterEach, describe, expect, it } from 'vitest'
import { HerdTimeoutError, createHerd, type Herd } from '../src/index.js'
import { advance, settle, useFakeClock } from './support/clock.js'
import { sleep } from './support/helpers.js'

useFakeClock()
let herd: Herd
afterEach(() => herd?.close())

/** A loader whose behaviour the test switches between calls. */
function switchable() {
  const state = {
    calls: 0,
    mode: 'ok' as 'ok' | 'fail' | 'slow' | 'hang',
    slowMs: 100,
    signals: [] as AbortSignal[],
    loader: async ({ signal }: { signal: AbortSignal }) => {
      state.calls++
      state.signals.push(signal)
      const call = state.calls
      if (state.mode === 'fail') throw new Error(`failure ${call}`)
      if (state.mode === 'slow') await sleep(state.slowMs)
      if (state.mode === 'hang') await new Promise(() => {})
      return `v${call}`
    },
  }
  return state
}

describe('stale-if-error (fail-safe)', () => {
  it('serves the last value while inside staleIfError when the loader throws, and reports the error', async () => {
    herd = createHerd({ ttl: 20, jitter: 0, staleIfError: '10s', beta: 0 })
    const db = switchable()
    await expect(settle(herd.fetch('k', db.loader))).resolves.toBe('v1')
    await advance(30)
    db.mode = 'fail'
    const errors: unknown[] = []
    herd.on('error', (e) => errors.push(e))
    const results = await settle(Promise.all(Array.from({ length: 20 }, () => herd.fetch('k', db.loader))))
    expect(results.every((v) => v === 'v1')).toBe(true)
    expect(db.calls).toBe(2)
    expect(errors).toEqual([expect.objectContaining({ key: 'k', source: 'loader' })])
    expect(herd.stats().stale.error).toBe(1)
  })

  it("backs off: inside errorBackoff the failing loader isn't called again; after it, it is", async () => {
    herd = createHerd({ ttl: 20, jitter: 0, staleIfError: '10s', beta: 0, errorBackoff: 200 })
    const db = switchable()
    await settle(herd.fetch('k', db.loader))
    await advance(30)
    db.mode = 'fail'
    await settle(herd.fetch('k', db.loader))
    expect(db.calls).toBe(2)
    for (let i = 0; i < 10; i++) await expect(settle(herd.fetch('k', db.loader))).resolves.toBe('v1')
    expect(db.calls).toBe(2)
    // the first of these may join the failed load's flight as it winds down; none calls the loader
    expect(herd.stats().stale.backoff).toBeGreaterThanOrEqual(9)
    await advance(220)
    db.mode = 'ok'
    await expect(settle(herd.fetch('k', db.loader))).resolves.toBe('v3')
    expect(db.calls).toBe(3)
  })

  it('past staleIfError the error reaches the caller', async () => {
    herd = createHerd({ ttl: 20, jitter: 0, staleIfError: 20, beta: 0 })
    const db = switchable()
    await settle(herd.fetch('k', db.loader))
    await advance(60)
    db.mode = 'fail'
    await expect(settle(herd.fetch('k', db.loader))).rejects.toThrow('failure 2')
  })
})

describe('loader timeouts', () => {
  it('soft timeout: a caller with a stale value gets it, the load goes on and lands', async () => {
    herd = createHerd({ ttl: 300, jitter: 0, staleIfError: '10s', beta: 0, softTimeout: 30 })
    const db = switchable()
    await settle(herd.fetch('k', db.loader))
    await advance(310)
    db.mode = 'slow'
    db.slowMs = 150
    await expect(settle(herd.fetch('k', db.loader))).resolves.toBe('v1')
    expect(herd.stats().stale.timeout).toBe(1)
    // the load keeps going: while it runs, callers still get the stale value and no second load starts
    await expect(settle(herd.fetch('k', db.loader))).resolves.toBe('v1')
    expect(db.calls).toBe(2)
    await advance(170)
    await expect(settle(herd.fetch('k', db.loader))).resolves.toBe('v2')
    expect(db.calls).toBe(2)
  })

  it('soft timeout without a stale value: the caller waits for the load', async () => {
    herd = createHerd({ softTimeout: 10 })
    const db = switchable()
    db.mode = 'slow'
    db.slowMs = 60
    await expect(settle(herd.fetch('k', db.loader))).resolves.toBe('v1')
  })

  it('hard timeout: the loader signal aborts and callers get HerdTimeoutError', async () => {
    herd = createHerd({ hardTimeout: 40 })
    const db = switchable()
    db.mode = 'hang'
    await expect(settle(herd.fetch('k', db.loader))).rejects.toThrow(HerdTimeoutError)
    expect(db.signals[0]?.aborted).toBe(true)
    // the next call starts afresh
    db.mode = 'ok'
    await expect(settle(herd.fetch('k', db.loader))).resolves.toBe('v2')
  })

  it('hard timeout with a value inside staleIfError: the stale value stands in', async () => {
    herd = createHerd({ ttl: 20, jitter: 0, staleIfError: '10s', beta: 0, hardTimeout: 40 })
    const db = switchable()
    await settle(herd.fetch('k', db.loader))
    await advance(30)
    db.mode = 'hang'
    await expect(settle(herd.fetch('k', db.loader))).resolves.toBe('v1')
    expect(db.signals[1]?.aborted).toBe(true)
    expect(herd.stats().stale.timeout).toBe(1)
  })

  it('per-call hardTimeout overrides the herd default', async () => {
    herd = createHerd({ hardTimeout: '10s' })
    const db = switchable()
    db.mode = 'hang'
    await expect(settle(herd.fetch('k', db.loader, { hardTimeout: 30 }))).rejects.toThrow(/30 ms/)
  })
})
