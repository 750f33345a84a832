import type { IncomingHttpHeaders } from 'node:http'

function opaque(tag: string): string {
  const t = tag.trim()
  return t.startsWith('W/') ? t.slice(2) : t
}

/** Weak comparison (RFC 9110 §8.8.3.2) of `etag` against an If-None-Match list. */
export function etagMatches(ifNoneMatch: string, etag: string): boolean {
  const wanted = opaque(etag)
  let start = 0
  while (start <= ifNoneMatch.length) {
    let end = ifNoneMatch.indexOf(',', start)
    if (end === -1) end = ifNoneMatch.length
    const candidate = ifNoneMatch.slice(start, end).trim()
    if (candidate === '*' || (candidate !== '' && opaque(candidate) === wanted)) return true
    start = end + 1
  }
  return false
}

/**
 * Whether a stored response lets this request be answered 304 Not Modified
 * (RFC 9110 §13.2.2): If-None-Match when present, else If-Modified-Since.
 */
export function isNotModified(headers: IncomingHttpHeaders, etag: string | undefined, lastModified: number | undefined): boolean {
  const inm = headers['if-none-match']
  if (inm !== undefined) return etag !== undefined && etagMatches(inm, etag)
  const ims = headers['if-modified-since']
  if (ims === undefined || lastModified === undefined) return false
  const since = Date.parse(ims)
  return !Number.isNaN(since) && lastModified <= since
}
