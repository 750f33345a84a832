import type { BreakerState } from '../events.js'

/**
 * Counts consecutive Store/Lock failures. Past `threshold` it opens: the
 * pipeline bypasses the backend (in-process protection only). After
 * `resetAfter` one probe is let through; its outcome closes or re-opens it.
 * Time is read lazily, so the breaker owns no timer.
 */
export class Breaker {
  state: BreakerState = 'closed'
  opens = 0
  private failures = 0
  private openedAt = 0
  private probing = false

  constructor(
    private readonly threshold: number,
    private readonly resetAfter: number,
    private readonly onChange: (from: BreakerState, to: BreakerState) => void,
  ) {}

  /** Whether the next backend call may go through. */
  allow(): boolean {
    if (this.state === 'closed') return true
    if (this.state === 'open') {
      if (Date.now() - this.openedAt < this.resetAfter) return false
      this.move('half-open')
    }
    if (this.probing) return false
    this.probing = true
    return true
  }

  success(): void {
    this.failures = 0
    this.probing = false
    if (this.state !== 'closed') this.move('closed')
  }

  failure(): void {
    this.probing = false
    this.failures++
    if (this.state === 'half-open' || (this.state === 'closed' && this.failures >= this.threshold)) {
      this.openedAt = Date.now()
      this.opens++
      this.move('open')
    }
  }

  private move(to: BreakerState): void {
    const from = this.state
    this.state = to
    this.onChange(from, to)
  }
}
