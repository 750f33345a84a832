import { describe, expect, it } from 'vitest'
import { PENDING, perTest, within } from '../src/harness.js'

// The suites lean on these hooks for isolation on a shared backend (unique
// keys per test) and for cleanup (teardown of everything a test created).
// Tests in a file run in order, so a later test can see what an earlier one's hooks did.

describe('perTest', () => {
  describe('default teardown and key prefix', () => {
    const closed: number[] = []
    let made = 0
    const { key, create } = perTest(() => {
      const id = made++
      return { id, close: async () => void closed.push(id) }
    })
    const keys: string[] = []

    it('creates adapters with the factory', async () => {
      keys.push(key('k'))
      expect((await create()).id).toBe(0)
      expect((await create()).id).toBe(1)
      expect(closed).toEqual([])
    })

    it('closed every adapter the previous test created, once it ended', () => {
      keys.push(key('k'))
      expect(closed.sort()).toEqual([0, 1])
    })

    it('gave each test a key prefix of its own', () => {
      const [first, second] = keys
      expect(first).not.toBe(second)
      for (const k of keys) expect(k).toMatch(/^herd-conformance:.+:k$/)
    })
  })

  describe('custom teardown, a shared instance and keyPrefix', () => {
    const shared = { close: async () => {} }
    const events: unknown[] = []
    const { key, create, defer } = perTest(() => shared, { teardown: (adapter) => void events.push(adapter), keyPrefix: 'mine/' })

    it('hands out what the factory gives', async () => {
      expect(await create()).toBe(shared)
      expect(await create()).toBe(shared)
      defer(() => events.push('deferred cleanup'))
      expect(key('k')).toMatch(/^mine\/.+:k$/)
    })

    it('ran the deferred cleanup, then tore the shared instance down once, with the custom teardown', () => {
      expect(events).toEqual(['deferred cleanup', shared])
    })
  })
})

describe('within', () => {
  it('resolves with the value when the promise settles in time', async () => {
    expect(await within(Promise.resolve(42), 1_000)).toBe(42)
  })

  it('resolves PENDING when it does not', async () => {
    expect(await within(new Promise(() => {}), 20)).toBe(PENDING)
  })

  it('passes a rejection on', async () => {
    await expect(within(Promise.reject(new Error('boom')), 1_000)).rejects.toThrow('boom')
  })
})
