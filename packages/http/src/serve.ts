import type { CapturedResponse } from './capture.js'

/**
 * What serving a capture needs, worked out once per capture and reused by
 * every hit (a WeakMap, so a capture dropped by the cache takes it along).
 */
export interface Prepared {
  names: string[]
  values: Array<string | string[]>
  /** The subset a 304 carries (RFC 9110 §15.4.5). */
  notModifiedNames: string[]
  notModifiedValues: Array<string | string[]>
  /** Only 2xx responses answer conditional requests. */
  conditional: boolean
}

const NOT_MODIFIED_HEADERS = new Set(['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary', 'last-modified'])
const prepared = new WeakMap<CapturedResponse, Prepared>()

export function prepare(capture: CapturedResponse): Prepared {
  let p = prepared.get(capture)
  if (p !== undefined) return p
  p = { names: [], values: [], notModifiedNames: [], notModifiedValues: [], conditional: capture.status >= 200 && capture.status < 300 }
  for (const name of Object.keys(capture.headers)) {
    const value = capture.headers[name]!
    p.names.push(name)
    p.values.push(value)
    if (NOT_MODIFIED_HEADERS.has(name)) {
      p.notModifiedNames.push(name)
      p.notModifiedValues.push(value)
    }
  }
  if (capture.status !== 204 && capture.status !== 304) {
    p.names.push('content-length')
    p.values.push(String(capture.body.length))
  }
  prepared.set(capture, p)
  return p
}

/** `Age` in seconds: what the handler reported plus the time in the cache. */
export function ageOf(capture: CapturedResponse, now: number): string {
  const resident = now > capture.at ? Math.floor((now - capture.at) / 1000) : 0
  return String(capture.age + resident)
}
