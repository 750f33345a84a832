import { describe, expect, it } from 'vitest'
import { HerdArgumentError, type HerdLogger, createHerd } from '../src/index.js'
import { advance, flush, settle, useFakeClock } from './support/clock.js'
import { countingLoader, gate } from './support/helpers.js'
import { trackHerds } from './support/herds.js'
import { MapLock } from './support/map-lock.js'
import { MapStore } from './support/map-store.js'

useFakeClock()
const track = trackHerds()

function memoryLogger() {
  const lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = []
  const at = (level: string) => (fields: object, message: string) => lines.push({ level, fields: fields as Record<string, unknown>, message })
  const logger: HerdLogger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') }
  return { logger, lines }
}

describe('inspect(key)', () => {
  it('shows each tier, the lease and the work under way', async () => {
    const store = new MapStore()
    const lock = Object.assign(new MapLock(), {
      async inspect(this: MapLock, key: string) {
        const lease = this.leases.get(key)
        return lease === undefined ? { held: false } : { held: true, expiresInMs: lease.until - Date.now() }
      },
    })
    const herd = track(createHerd({ store, lock, ttl: '1m', staleWhileRevalidate: '1m', jitter: 0, lease: '5s' }))
    expect(await herd.inspect('k')).toEqual({
      key: 'k',
      at: Date.now(),
      shared: undefined,
      local: undefined,
      lease: { held: false },
      inFlight: false,
      heldOffUntil: undefined,
    })
    const slow = gate<string>()
    const loading = herd.fetch('k', () => slow.promise)
    await flush()
    const during = await herd.inspect('k')
    expect(during).toMatchObject({ inFlight: true, lease: { held: true, expiresInMs: 5_000 } })
    slow.open('v')
    await loading
    const now = Date.now()
    const after = await herd.inspect('k')
    const entry = {
      state: 'fresh',
      negative: false,
      createdAt: now,
      freshUntil: now + 60_000,
      staleUntil: now + 120_000,
      errorUntil: now + 120_000,
      loadMs: 0,
    }
    expect(after).toMatchObject({ shared: entry, local: { ...entry, until: now + 5_000 }, lease: { held: false }, inFlight: false })
    await advance(61_000)
    expect(await herd.inspect('k')).toMatchObject({ shared: { state: 'stale' }, local: undefined })
  })

  it('says when the Store is unreachable and when the Lock cannot tell', async () => {
    const store = new MapStore()
    store.mode = 'fail'
    const herd = track(createHerd({ store, lock: new MapLock() }))
    expect(await herd.inspect('k')).toMatchObject({ shared: 'unreachable', lease: 'unknown' })
    await expect(herd.inspect('')).rejects.toThrow(HerdArgumentError)
  })
})

describe('logger', () => {
  it('an outage is one warning per source and a count, not a line per request; the breaker says when it opens and closes', async () => {
    const { logger, lines } = memoryLogger()
    const store = new MapStore()
    const herd = track(createHerd({ store, local: false, logger, breaker: { threshold: 3, resetAfter: '10s' } }))
    store.mode = 'fail'
    for (let i = 0; i < 50; i++) await settle(herd.fetch(`k${i}`, countingLoader('v')))
    const warnings = lines.filter((l) => l.level === 'warn')
    expect(warnings.map((l) => l.message)).toEqual([expect.stringMatching(/Store call failed/), expect.stringMatching(/breaker opened/)])
    expect(warnings[0]!.fields).toMatchObject({ herd: herd.id, source: 'store', err: expect.any(Error) })
    store.mode = 'ok'
    await advance(31_000)
    await settle(herd.fetch('after', countingLoader('v')))
    expect(lines.filter((l) => l.level === 'info').map((l) => l.message)).toEqual([expect.stringMatching(/breaker closed/)])
  })

  it('a loader error is only a debug line (the caller gets it); a throwing logger changes nothing', async () => {
    const { logger, lines } = memoryLogger()
    const herd = track(createHerd({ logger }))
    await expect(herd.fetch('k', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down')
    expect(lines.map((l) => `${l.level}:${l.message}`)).toEqual(['debug:herd: a loader failed'])
    const broken = track(
      createHerd({
        logger: {
          error: () => {
            throw new Error('x')
          },
          warn: () => {
            throw new Error('x')
          },
        },
        store: Object.assign(new MapStore(), { mode: 'fail' as const }),
      }),
    )
    await expect(settle(broken.fetch('k', countingLoader('v')))).resolves.toBe('v')
  })

  it('warns once when a fused Lock is paired with another Store', () => {
    const { logger, lines } = memoryLogger()
    const store = new MapStore()
    const lock = Object.assign(new MapLock(), { fused: { store: new MapStore() } as never })
    track(createHerd({ store, lock, logger }))
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', message: expect.stringMatching(/plain round trips/) })])
  })

  it('rejects a logger without error() and warn()', () => {
    expect(() => createHerd({ logger: console.log as never })).toThrow(/logger must implement error, warn/)
  })
})
