import { randomUUID } from 'node:crypto'
import type { Lease, Lock } from '../../src/index.js'

/**
 * A plain in-process Lock for core's unit tests, with switches the tests
 * need: make it fail or hang, hold acquire() at a gate, restart its fence
 * counter (data loss), and count what it was asked. The real adapters prove
 * the Lock contract itself through @herd/testing.
 */
export class MapLock implements Lock {
  readonly leases = new Map<string, { token: string; until: number }>()
  mode: 'ok' | 'fail' | 'hang' = 'ok'
  /** When set, acquire() waits for it before answering. */
  acquireGate: Promise<void> | undefined
  calls = { acquire: 0, release: 0, extend: 0, fence: 0, wait: 0 }
  private counter = 0
  private readonly waiters = new Map<string, Set<(woken: boolean) => void>>()

  private async gate(): Promise<void> {
    if (this.mode === 'fail') throw new Error('lock is down')
    if (this.mode === 'hang') await new Promise(() => {})
  }

  /** Forgets every fence handed out, as a backend that lost its data would. */
  loseData(): void {
    this.counter = 0
    this.leases.clear()
  }

  held(key: string): boolean {
    const lease = this.leases.get(key)
    return lease !== undefined && Date.now() < lease.until
  }

  async acquire(key: string, ttlMs: number): Promise<Lease | undefined> {
    this.calls.acquire++
    await this.gate()
    if (this.acquireGate !== undefined) await this.acquireGate
    if (this.held(key)) return undefined
    const token = randomUUID()
    this.leases.set(key, { token, until: Date.now() + ttlMs })
    return { key, token, fence: ++this.counter }
  }

  async release(lease: Lease): Promise<boolean> {
    this.calls.release++
    await this.gate()
    const held = this.leases.get(lease.key)
    if (held === undefined || held.token !== lease.token) return false
    this.leases.delete(lease.key)
    for (const wake of this.waiters.get(lease.key) ?? []) wake(true)
    return true
  }

  async extend(lease: Lease, ttlMs: number): Promise<boolean> {
    this.calls.extend++
    await this.gate()
    const held = this.leases.get(lease.key)
    if (held === undefined || held.token !== lease.token) return false
    held.until = Date.now() + ttlMs
    return true
  }

  async fence(_key: string): Promise<number> {
    this.calls.fence++
    await this.gate()
    return ++this.counter
  }

  async wait(key: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    this.calls.wait++
    await this.gate()
    if (!this.held(key)) return true
    return new Promise((resolve) => {
      const group = this.waiters.get(key) ?? new Set()
      this.waiters.set(key, group)
      const settle = (woken: boolean): void => {
        group.delete(settle)
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        resolve(woken)
      }
      const onAbort = (): void => settle(false)
      const timer = setTimeout(() => settle(!this.held(key)), Math.min(timeoutMs, Math.max(0, this.leases.get(key)!.until - Date.now())))
      signal?.addEventListener('abort', onAbort, { once: true })
      group.add(settle)
    })
  }
}
