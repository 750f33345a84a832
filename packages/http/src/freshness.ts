import type { OutgoingHttpHeaders } from 'node:http'
import type { CacheControl } from './cache-control.js'

/*
 * RFC 9111 §4.2: how long a response is fresh and how old it already is when
 * herd stores it. Pure functions of the headers and `now`, so they are tested
 * without a clock.
 */

function single(value: OutgoingHttpHeaders[string]): string | undefined {
  if (value === undefined) return undefined
  if (Array.isArray(value)) return value.length === 1 ? String(value[0]) : undefined
  return String(value)
}

/** A valid HTTP-date in epoch ms, or undefined (absent, repeated or invalid). */
function httpDate(value: OutgoingHttpHeaders[string]): number | undefined {
  const text = single(value)
  if (text === undefined) return undefined
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : at
}

/**
 * The response's age in ms when herd receives it (§4.2.3): the larger of the
 * `Age` it carries (a response proxied from further up) and how far its own
 * `Date` lies in the past. An invalid `Age` is ignored (§5.1).
 */
export function initialAge(headers: OutgoingHttpHeaders, now: number): number {
  const ageText = single(headers.age)
  const age = ageText !== undefined && /^\d+$/.test(ageText.trim()) ? Number(ageText.trim()) * 1000 : 0
  const date = httpDate(headers.date)
  const apparent = date === undefined ? 0 : Math.max(0, now - date)
  return Math.max(age, apparent)
}

/**
 * The explicit freshness lifetime in ms (§4.2.1), or undefined when the
 * response gives none. `s-maxage` (shared caches only), then `max-age`, then
 * `Expires` minus `Date` (minus `now` without a Date). An invalid or repeated
 * `Expires` means already stale (§5.3).
 */
export function freshnessLifetime(
  cc: CacheControl | undefined,
  headers: OutgoingHttpHeaders,
  shared: boolean,
  useExpires: boolean,
  now: number,
): number | undefined {
  if (shared && cc?.sMaxAge !== undefined) return cc.sMaxAge * 1000
  if (cc?.maxAge !== undefined) return cc.maxAge * 1000
  if (!useExpires || headers.expires === undefined) return undefined
  const expires = httpDate(headers.expires)
  if (expires === undefined) return 0
  return expires - (httpDate(headers.date) ?? now)
}
