import type { IncomingHttpHeaders } from 'node:http'
import fresh from 'fresh'
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
  /** What `fresh` compares a conditional request against. */
  validators: { etag?: string; 'last-modified'?: string }
}

const NOT_MODIFIED_HEADERS = new Set(['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary', 'last-modified'])
const prepared = new WeakMap<CapturedResponse, Prepared>()

export function prepare(capture: CapturedResponse): Prepared {
  let p = prepared.get(capture)
  if (p !== undefined) return p
  const validators: Prepared['validators'] = {}
  if (capture.etag !== undefined) validators.etag = capture.etag
  const lastModified = capture.headers['last-modified']
  if (typeof lastModified === 'string') validators['last-modified'] = lastModified
  p = { names: [], values: [], notModifiedNames: [], notModifiedValues: [], conditional: capture.status >= 200 && capture.status < 300, validators }
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

/**
 * Whether a stored 2xx lets this request be answered 304 Not Modified (RFC
 * 9110 §13.2.2): `fresh`, the module Express itself uses (If-None-Match with
 * weak comparison and `*`, else If-Modified-Since). Given only the two
 * conditional headers: fresh answers a request with `Cache-Control: no-cache`
 * (which fetch() adds to every conditional request) in full, but herd ignores
 * request Cache-Control and serves the stored response either way, so the 304
 * is the same answer with fewer bytes.
 */
export function isNotModified(headers: IncomingHttpHeaders, p: Prepared): boolean {
  const ifNoneMatch = headers['if-none-match']
  const ifModifiedSince = headers['if-modified-since']
  if (!p.conditional || (ifNoneMatch === undefined && ifModifiedSince === undefined)) return false
  return fresh({ 'if-none-match': ifNoneMatch, 'if-modified-since': ifModifiedSince }, p.validators)
}

/** `Age` in seconds: how old it was when stored plus the time in the cache. */
export function ageOf(capture: CapturedResponse, now: number): string {
  const resident = now > capture.at ? Math.floor((now - capture.at) / 1000) : 0
  return String(capture.age + resident)
}
