import type { Store, StoredEntry } from '../../src/index.js'

/**
 * A plain Map-backed Store for core's unit tests, with a switch to make it
 * fail or hang: the pipeline's reaction to a broken backend is what these
 * tests are about. The real adapters (@herd/memory, @herd/redis) prove the
 * Store contract itself through @herd/testing.
 */
export class MapStore implements Store {
  readonly entries = new Map<string, { entry: StoredEntry; until: number }>()
  mode: 'ok' | 'fail' | 'hang' = 'ok'
  calls = 0

  private async gate(): Promise<void> {
    this.calls++
    if (this.mode === 'fail') throw new Error('store is down')
    if (this.mode === 'hang') await new Promise(() => {})
  }

  async get(key: string): Promise<StoredEntry | undefined> {
    await this.gate()
    const slot = this.entries.get(key)
    if (slot === undefined || Date.now() >= slot.until) return undefined
    return { ...slot.entry }
  }

  async set(key: string, entry: StoredEntry, ttlMs: number): Promise<boolean> {
    await this.gate()
    const held = this.entries.get(key)
    if (held !== undefined && Date.now() < held.until && held.entry.fence > entry.fence) return false
    this.entries.set(key, { entry: { ...entry }, until: Date.now() + ttlMs })
    return true
  }

  async getMany(keys: readonly string[]): Promise<Array<StoredEntry | undefined>> {
    await this.gate()
    this.calls--
    return Promise.all(keys.map((key) => this.get(key)))
  }

  async delete(key: string): Promise<void> {
    await this.gate()
    this.entries.delete(key)
  }

  async expire(key: string, at: number, fence?: number): Promise<boolean> {
    await this.gate()
    const held = this.entries.get(key)
    if (held === undefined || Date.now() >= held.until) return false
    held.entry = { ...held.entry, freshUntil: Math.min(held.entry.freshUntil, at), fence: Math.max(held.entry.fence, fence ?? 0) }
    return true
  }
}
