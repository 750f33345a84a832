import { HerdArgumentError } from './errors.js'

/** Milliseconds as a number, or a string such as '250ms', '30s', '5m', '1h', '7d'. */
export type Duration = number | string

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * The longest duration herd accepts: 100 years. Entry times (now + ttl +
 * stale windows) stay exact integers, and every backend can keep it (Redis
 * refuses expiries past 2^63 ms, and rounds what Lua sees to doubles).
 */
export const MAX_DURATION_MS = 36_525 * 86_400_000
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/

/**
 * Parses a duration to whole milliseconds. Rejects NaN, negatives, Infinity
 * and anything unparseable with a HerdArgumentError naming the option.
 */
export function toMs(value: Duration, name: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new HerdArgumentError(`herd: ${name} must be a finite number of ms >= 0 or a string like '30s'; got ${String(value)}`)
    }
    return withinRange(Math.round(value), name, value)
  }
  if (typeof value === 'string') {
    const match = PATTERN.exec(value)
    if (match) return withinRange(Math.round(Number(match[1]) * UNIT_MS[match[2]!]!), name, value)
  }
  throw new HerdArgumentError(`herd: ${name} must be ms as a number or a string like '250ms', '30s', '5m', '1h', '7d'; got ${describe(value)}`)
}

function withinRange(ms: number, name: string, value: Duration): number {
  if (ms > MAX_DURATION_MS) {
    throw new HerdArgumentError(`herd: ${name} must be at most 100 years ('36525d'); got ${describe(value)}`)
  }
  return ms
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (value === null) return 'null'
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object'
  return String(value)
}
