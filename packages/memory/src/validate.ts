import { HerdArgumentError } from '@herd/core'

// The Redis adapters reject the same inputs, so a bad call fails the same way
// on every backend instead of corrupting an entry on one and working on another.

export function assertKey(key: unknown, operation: string): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new HerdArgumentError(`herd: ${operation}() needs a non-empty string key; got ${describe(key)}`)
  }
}

/** A finite duration in ms: `>= 0`, or `> 0` when `positive` (a lease of 0 ms would be born expired). */
export function assertMs(value: unknown, name: string, positive = false): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    const bound = positive ? '> 0' : '>= 0'
    throw new HerdArgumentError(`herd: ${name} must be a finite number of ms ${bound}; got ${describe(value)}`)
  }
}

export function assertFinite(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new HerdArgumentError(`herd: ${name} must be a finite number; got ${describe(value)}`)
  }
}

export function assertObject(value: unknown, name: string): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') {
    throw new HerdArgumentError(`herd: ${name} must be an object; got ${describe(value)}`)
  }
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (value === null) return 'null'
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object'
  return String(value)
}
