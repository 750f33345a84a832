import type { IncomingHttpHeaders } from 'node:http'
import parseRange from 'range-parser'
import type { CapturedResponse } from './capture.js'

/** What a Range request on a stored complete 200 gets (RFC 9110 §14). */
export type RangeAnswer = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' }

const FULL: RangeAnswer = { kind: 'full' }

/**
 * `If-Range` (§13.1.5): the range applies only while the validator still
 * matches, an entity-tag by strong comparison (a weak one never matches), a
 * date only when it is exactly the stored `Last-Modified`.
 */
function ifRangeHolds(ifRange: string, capture: CapturedResponse): boolean {
  const value = ifRange.trim()
  if (value.startsWith('"') || value.startsWith('W/')) {
    return !value.startsWith('W/') && capture.etag !== undefined && !capture.etag.startsWith('W/') && capture.etag === value
  }
  const lastModified = capture.headers['last-modified']
  return typeof lastModified === 'string' && Date.parse(lastModified) === Date.parse(value) && !Number.isNaN(Date.parse(value))
}

/**
 * range-parser (what Express uses) reads the header; overlapping ranges are
 * combined. One range → 206; several → the whole 200 (a server MAY ignore
 * Range, §14.2, as Express's send does); none satisfiable → 416; a malformed
 * header or another unit → the whole 200. Only a 200 answers ranges, and not
 * when the handler said `Accept-Ranges: none`.
 */
export function rangeFor(headers: IncomingHttpHeaders, capture: CapturedResponse): RangeAnswer {
  const range = headers.range
  if (range === undefined || capture.status !== 200 || capture.headers['accept-ranges'] === 'none') return FULL
  const ifRange = headers['if-range']
  if (typeof ifRange === 'string' && !ifRangeHolds(ifRange, capture)) return FULL
  const parsed = parseRange(capture.body.length, range, { combine: true })
  if (parsed === -1) return { kind: 'unsatisfiable' }
  if (parsed === -2 || parsed.type !== 'bytes' || parsed.length !== 1) return FULL
  return { kind: 'partial', start: parsed[0]!.start, end: parsed[0]!.end }
}
