import { describe } from './duration.js'
import { HerdArgumentError } from './errors.js'

export function assertKey(key: unknown, operation: string): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new HerdArgumentError(`herd: ${operation}() needs a non-empty string key; got ${describe(key)}`)
  }
  // U+0000 at the start marks the keys herd makes up itself (namespaces, tag records: see keyspace.ts).
  if (key.charCodeAt(0) === 0) {
    throw new HerdArgumentError(`herd: ${operation}() keys can't start with U+0000 (reserved for herd's own keys); got ${JSON.stringify(key)}`)
  }
}

export function assertLoader(loader: unknown, operation: string): void {
  if (typeof loader !== 'function') {
    throw new HerdArgumentError(`herd: ${operation}() needs a loader function; got ${describe(loader)}`)
  }
}

export function assertSignal(signal: unknown): asserts signal is AbortSignal | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new HerdArgumentError(`herd: signal must be an AbortSignal; got ${describe(signal)}`)
  }
}

export function assertAdapter(value: unknown, name: string, methods: readonly string[]): void {
  if (value === undefined) return
  const missing =
    value === null || typeof value !== 'object' ? methods : methods.filter((m) => typeof (value as Record<string, unknown>)[m] !== 'function')
  if (missing.length > 0) {
    throw new HerdArgumentError(`herd: ${name} must implement ${methods.join(', ')}; missing ${missing.join(', ')}`)
  }
}
