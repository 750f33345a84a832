/** Each read's weight in the running miss rate: about the last eight reads count. */
const WEIGHT = 1 / 8

/**
 * Whether the next shared-tier read on the miss path is likely to miss,
 * from how this process's recent ones went (a running average). Where it
 * is, a fused Lock's `readOrAcquire` answers the read and takes the lease
 * in one round trip, saving a cold key one; where reads mostly hit, a plain
 * Store read stays cheapest (a write command such as `SET NX GET` always
 * goes to a primary, and doesn't count as a read in the backend's own hit
 * rate). A fresh process expects misses: its first reads are the ones
 * most likely cold.
 */
export class MissOdds {
  private rate = 1

  likely(): boolean {
    return this.rate >= 0.5
  }

  record(missed: boolean): void {
    this.rate += ((missed ? 1 : 0) - this.rate) * WEIGHT
  }
}
