import { Lru } from '../pipeline/lru.js'

/**
 * Keys this process must not load or refresh again before a time: after a
 * loader error (stale-if-error serves meanwhile), after a load made while the
 * fleet's Lock was unreachable, or while another process refreshes the key.
 * Bounded, so a flood of failing keys can't grow it.
 */
export class HoldOff {
  private readonly holds = new Lru<string, number>(10_000)

  active(key: string, now: number): boolean {
    const until = this.holds.get(key)
    return until !== undefined && now < until
  }

  /** When the hold on `key` ends, if it is still on. */
  until(key: string, now: number): number | undefined {
    const until = this.holds.peek(key)
    return until !== undefined && now < until ? until : undefined
  }

  hold(key: string, ms: number, now: number): void {
    if (ms > 0) this.holds.set(key, now + ms)
  }

  clear(): void {
    this.holds.clear()
  }
}
