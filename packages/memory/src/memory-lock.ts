import { randomUUID } from 'node:crypto'
import { HerdArgumentError, type Lease, type Lock } from '@herd/core'
import { nextFence } from './fence.js'
import { assertKey, assertMs, assertObject, describe } from './validate.js'

export interface MemoryLock extends Lock {
  close(): Promise<void>
  /** Leases held right now (expired ones not yet swept included). */
  readonly size: number
}

interface Held {
  token: string
  /** performance.now() ms: a monotonic clock, so a wall-clock jump can't expire or revive a lease. */
  expiresAt: number
}

/** Everyone waiting on one key, and the one timer that wakes them if the lease expires first. */
interface Waiting {
  waiters: Set<(result: boolean) => void>
  expiryTimer?: ReturnType<typeof setTimeout>
}

/**
 * setTimeout fires at once for longer delays, so delays are capped here: the
 * expiry timer then re-checks and re-arms; a wait timeout ends at ~24.8 days.
 */
const MAX_DELAY = 2 ** 31 - 1
/** The lease map is swept of unreleased, expired leases each time it doubles past this. */
const MIN_SWEEP = 1024

/**
 * Per-key leases in this process. Leases expire on their own: expiry is
 * checked lazily when a key is touched, and only a key with waiters gets a
 * timer, so a holder that never releases can't block its waiters past the
 * lease.
 */
export function memoryLock(): MemoryLock {
  const leases = new Map<string, Held>()
  const waiting = new Map<string, Waiting>()
  let sweepAt = MIN_SWEEP

  /** The key's unexpired lease. An expired one is dropped here, which wakes its waiters so one can take over. */
  function live(key: string): Held | undefined {
    const held = leases.get(key)
    if (held === undefined || held.expiresAt > performance.now()) return held
    free(key)
    return undefined
  }

  function free(key: string): void {
    leases.delete(key)
    const group = waiting.get(key)
    if (group !== undefined) for (const settle of group.waiters) settle(true)
  }

  /** Owner check shared by release and extend: the lease must be live and carry its token. */
  function owned(lease: Lease, operation: string): Held | undefined {
    assertObject(lease, 'lease')
    assertKey(lease.key, operation)
    if (typeof lease.token !== 'string') {
      throw new HerdArgumentError(`herd: ${operation}() needs the lease acquire() gave; its token is ${describe(lease.token)}`)
    }
    const held = live(lease.key)
    return held !== undefined && held.token === lease.token ? held : undefined
  }

  /** (Re)arms the timer that wakes `key`'s waiters when its lease expires. */
  function armExpiry(key: string, group: Waiting): void {
    clearTimeout(group.expiryTimer)
    const held = leases.get(key)
    if (held === undefined) return
    group.expiryTimer = setTimeout(
      () => {
        group.expiryTimer = undefined
        // Still live: extended meanwhile, or the timer ran a hair early. Wait again.
        if (live(key) !== undefined) armExpiry(key, group)
      },
      Math.min(MAX_DELAY, Math.max(0, held.expiresAt - performance.now())),
    )
  }

  /** The first waiter on a held key: a group for it, woken at the lease's expiry at the latest. */
  function watch(key: string): Waiting {
    const group: Waiting = { waiters: new Set() }
    waiting.set(key, group)
    armExpiry(key, group)
    return group
  }

  // Holders that never release or extend (a crashed task, a bug) would otherwise leave
  // their leases in the map until the key is touched again.
  function sweep(): void {
    for (const key of leases.keys()) live(key)
    sweepAt = Math.max(MIN_SWEEP, leases.size * 2)
  }

  return {
    async acquire(key, ttlMs) {
      assertKey(key, 'acquire')
      assertMs(ttlMs, 'ttlMs', true)
      if (live(key) !== undefined) return undefined
      const lease: Lease = { key, token: randomUUID(), fence: nextFence() }
      leases.set(key, { token: lease.token, expiresAt: performance.now() + ttlMs })
      if (leases.size >= sweepAt) sweep()
      return lease
    },

    async release(lease) {
      if (owned(lease, 'release') === undefined) return false
      free(lease.key)
      return true
    },

    async extend(lease, ttlMs) {
      assertMs(ttlMs, 'ttlMs', true)
      const held = owned(lease, 'extend')
      if (held === undefined) return false
      const expiresAt = performance.now() + ttlMs
      const shortened = expiresAt < held.expiresAt
      held.expiresAt = expiresAt
      // A later expiry needs nothing: the armed wake-up re-checks when it fires
      // and re-arms. Only a lease cut shorter must wake its waiters sooner.
      const group = waiting.get(lease.key)
      if (shortened && group !== undefined) armExpiry(lease.key, group)
      return true
    },

    async fence(key) {
      assertKey(key, 'fence')
      return nextFence()
    },

    async inspect(key) {
      assertKey(key, 'inspect')
      const held = live(key)
      return held === undefined ? { held: false } : { held: true, expiresInMs: Math.max(0, Math.round(held.expiresAt - performance.now())) }
    },

    async wait(key, timeoutMs, signal) {
      assertKey(key, 'wait')
      assertMs(timeoutMs, 'timeoutMs')
      if (signal !== undefined && !(signal instanceof AbortSignal)) {
        throw new HerdArgumentError(`herd: signal must be an AbortSignal; got ${describe(signal)}`)
      }
      if (signal?.aborted) return false
      if (live(key) === undefined) return true

      const group = waiting.get(key) ?? watch(key)
      return new Promise<boolean>((resolve) => {
        // Whichever comes first (release, expiry, timeout, abort, close) settles
        // the wait and clears everything the others would have used.
        const settle = (result: boolean): void => {
          if (!group.waiters.delete(settle)) return
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          if (group.waiters.size === 0) {
            clearTimeout(group.expiryTimer)
            waiting.delete(key)
          }
          resolve(result)
        }
        const onAbort = (): void => settle(false)
        const timer = setTimeout(settle, Math.min(MAX_DELAY, timeoutMs), false)
        signal?.addEventListener('abort', onAbort, { once: true })
        group.waiters.add(settle)
      })
    },

    async close() {
      for (const group of waiting.values()) for (const settle of group.waiters) settle(false)
      leases.clear()
      sweepAt = MIN_SWEEP
    },

    get size() {
      return leases.size
    },
  }
}
