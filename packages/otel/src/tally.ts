import type { Attributes } from '@opentelemetry/api'

export interface Count {
  attributes: Attributes
  value: number
}

/**
 * Counts kept in this process, by attribute set, and handed to the SDK when
 * it collects (an observable counter). For the hot path, fetches: a cache
 * hit costs a few hundred nanoseconds, and a synchronous Counter.add() would
 * have the SDK hash the attributes on every call, several times that. Here
 * an event is one map lookup; the attributes object is built once per set.
 */
export class Tally {
  private readonly counts = new Map<string, Count>()

  /** Adds 1 to the set named `id`; false when there is no such set yet (then `start` it). */
  increment(id: string): boolean {
    const held = this.counts.get(id)
    if (held === undefined) return false
    held.value++
    return true
  }

  /** A new set, counted once. */
  start(id: string, attributes: Attributes): void {
    this.counts.set(id, { attributes, value: 1 })
  }

  values(): IterableIterator<Count> {
    return this.counts.values()
  }
}

/** Adds `value` to the entry of `into` with exactly these attributes (whatever their order). */
export function addTo(into: Map<string, Count>, attributes: Attributes, value: number): void {
  const id = JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1)))
  const held = into.get(id)
  if (held === undefined) into.set(id, { attributes, value })
  else held.value += value
}
