import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import { parseCacheControl, type CacheControl } from './cache-control.js'
import { freshnessLifetime, initialAge } from './freshness.js'
import type { ResolvedOptions } from './options.js'

/*
 * RFC 9111 rules for a shared cache, behind herd's own sharing rules.
 * Request side: only the configured methods, no credentials unless the entry
 * is per user, no body. Response side, on the headers as they leave (late
 * headers from middleware in front included): storable statuses, no
 * `Set-Cookie`, no `Vary: *`, no `no-store`, no `private` (unless per user);
 * freshness from `s-maxage` / `max-age` / `Expires` minus the age the response
 * already has, which may only shorten the configured ttl.
 * Request `Cache-Control` is ignored on purpose: honouring `no-cache` would let
 * any client force the handler to run, which is what herd exists to prevent.
 */

/** Whether a request carries credentials (a shared entry is never built from or served to one). */
export function requestHasCredentials(headers: IncomingHttpHeaders): boolean {
  return headers.authorization !== undefined || headers.cookie !== undefined
}

/** A request with a body: a "fat GET" whose answer may depend on what it sent, never shared. */
export function requestHasBody(headers: IncomingHttpHeaders): boolean {
  const length = headers['content-length']
  return (length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined
}

/** Methods whose success invalidates stored responses of the URL (RFC 9111 §4.4): all but the safe ones. */
export function isUnsafeMethod(method: string | undefined): boolean {
  return method !== undefined && method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS' && method !== 'TRACE'
}

function text(value: OutgoingHttpHeaders[string]): string | undefined {
  if (value === undefined) return undefined
  return Array.isArray(value) ? value.join(', ') : String(value)
}

/** Lower-case names listed in a `Vary` header (every field line of it). */
export function varyNames(value: OutgoingHttpHeaders[string]): string[] {
  const header = text(value)
  if (header === undefined) return []
  const names: string[] = []
  for (const part of header.split(',')) {
    const name = part.trim().toLowerCase()
    if (name !== '' && !names.includes(name)) names.push(name)
  }
  return names
}

/**
 * When a stored response may be reused without asking the handler again:
 * `stale-ok` inside its stale windows, `when-stale` (must-revalidate) only
 * while fresh, `always` (no-cache, or stale on arrival) never without a
 * successful revalidation.
 */
export type Revalidate = 'stale-ok' | 'when-stale' | 'always'

export type Verdict =
  | {
      kind: 'store'
      /** ms fresh from now. */
      ttl: number
      staleWhileRevalidate: number
      staleIfError: number
      revalidate: Revalidate
      /** ms old on arrival (§4.2.3), reported in `Age` on every serve. */
      age: number
    }
  | { kind: 'pass'; reason: string }
  /** A 5xx the user didn't list as storable: a failed handler run, never stored; stale-if-error may stand in. */
  | { kind: 'fail' }

const FAIL: Verdict = { kind: 'fail' }

export interface VerdictInput {
  status: number
  /** The headers as they leave (for a revalidated entry: merged with the 304's). */
  headers: OutgoingHttpHeaders
  options: ResolvedOptions
  perUser: boolean
  now: number
}

function window(directive: number | undefined, option: number): number {
  return directive === undefined ? option : Math.min(directive * 1000, option)
}

/** Whether a response may be shared, for how long, and when it must be revalidated. */
export function responseVerdict({ status, headers, options, perUser, now }: VerdictInput): Verdict {
  if (!options.statuses.has(status)) return status >= 500 ? FAIL : { kind: 'pass', reason: `status ${status}` }
  if (headers['set-cookie'] !== undefined) return { kind: 'pass', reason: 'set-cookie' }
  if (varyNames(headers.vary).includes('*')) return { kind: 'pass', reason: 'vary *' }
  // RFC 9213: a targeted field, when herd was told to read one and the response has it, replaces Cache-Control and Expires.
  const targeted = options.cdnCacheControl === undefined ? undefined : text(headers[options.cdnCacheControl])
  const field = targeted ?? text(headers['cache-control'])
  const cc: CacheControl | undefined = field === undefined ? undefined : parseCacheControl(field)
  if (cc?.noStore) return { kind: 'pass', reason: 'no-store' }
  if (cc?.private && !perUser) return { kind: 'pass', reason: 'private' }
  const hasValidator = headers.etag !== undefined || headers['last-modified'] !== undefined || (options.etag && status >= 200 && status < 300)
  const age = initialAge(headers, now)
  const lifetime = freshnessLifetime(cc, headers, !perUser, targeted === undefined, now)
  const ttl = Math.min(options.ttl, (lifetime ?? options.ttl) - age)
  let revalidate: Revalidate = 'stale-ok'
  if (cc?.noCache || ttl <= 0) revalidate = 'always'
  // s-maxage implies proxy-revalidate (§5.2.2.10); both bind shared caches only. A per-user entry is a private cache.
  else if (cc?.mustRevalidate || (!perUser && (cc?.proxyRevalidate || cc?.sMaxAge !== undefined))) revalidate = 'when-stale'
  if (revalidate === 'always' && !hasValidator) return { kind: 'pass', reason: cc?.noCache ? 'no-cache without a validator' : 'already stale' }
  if (revalidate !== 'stale-ok')
    return { kind: 'store', ttl: revalidate === 'always' ? 0 : ttl, staleWhileRevalidate: 0, staleIfError: 0, revalidate, age }
  return {
    kind: 'store',
    ttl,
    staleWhileRevalidate: window(cc?.staleWhileRevalidate, options.staleWhileRevalidate),
    staleIfError: window(cc?.staleIfError, options.staleIfError),
    revalidate,
    age,
  }
}
