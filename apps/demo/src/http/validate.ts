import { StatusError } from '../errors.js'

const MAX_ID = 2_147_483_647 // Postgres int
/** Canonical ids only: '7', never '07', '7.0', '+7' or '7abc', so one row has one cache key. */
const ID = /^[1-9][0-9]{0,9}$/

export function id(raw: string | undefined, name = 'id'): number {
  if (raw === undefined || !ID.test(raw) || Number(raw) > MAX_ID) {
    throw new StatusError(400, `${name} must be a whole number from 1 to ${MAX_ID}`)
  }
  return Number(raw)
}

/** Rejects query parameters a route doesn't know: they would make new cache keys out of junk. */
export function onlyQuery(query: Record<string, unknown>, allowed: readonly string[]): void {
  for (const [name, value] of Object.entries(query)) {
    if (!allowed.includes(name)) throw new StatusError(400, `unknown query parameter ${JSON.stringify(name.slice(0, 64))}`)
    if (typeof value !== 'string') throw new StatusError(400, `query parameter ${name} must be given once`)
  }
}

export function body(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new StatusError(400, 'the body must be a JSON object (Content-Type: application/json)')
  }
  return value as Record<string, unknown>
}

export function integer(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new StatusError(400, `${name} must be a whole number from ${min} to ${max}`)
  }
  return value
}

export function optional<T>(value: unknown, check: (value: unknown) => T): T | undefined {
  return value === undefined ? undefined : check(value)
}

export function text(value: unknown, name: string, maxLength: number): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > maxLength) {
    throw new StatusError(400, `${name} must be a non-empty string of at most ${maxLength} characters`)
  }
  return value.trim()
}

export function oneOf<T extends string>(value: unknown, name: string, choices: readonly T[]): T {
  if (!choices.includes(value as T)) throw new StatusError(400, `${name} must be one of ${choices.join(', ')}`)
  return value as T
}

export function boolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new StatusError(400, `${name} must be true or false`)
  return value
}
