import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import type { ResolvedOptions } from './options.js'

/*
 * RFC 9111 rules for a shared cache. Request side: only the configured
 * methods, and no credentials unless the entry is per user. Response side:
 * storable statuses, no `no-store` / `no-cache` / `private` (unless per user),
 * no `Set-Cookie`, no `Vary: *`, and freshness from `s-maxage` / `max-age` /
 * `Expires` that may only shorten the configured ttl. A response that must be
 * revalidated once stale is stored without stale windows.
 * Request `Cache-Control` is ignored on purpose: honouring `no-cache` would let
 * any client force the handler to run, which is what herd exists to prevent.
 */

/** Whether a request may use a shared entry; per-user entries accept credentials. */
export function requestHasCredentials(headers: IncomingHttpHeaders): boolean {
  return headers.authorization !== undefined || headers.cookie !== undefined
}

export interface CacheControl {
  noStore: boolean
  noCache: boolean
  private: boolean
  /** `must-revalidate` or `proxy-revalidate`: a shared cache must not serve it stale. */
  mustRevalidate: boolean
  /** `must-revalidate` itself, which binds a private cache (a per-user entry) too; `proxy-revalidate` does not. */
  mustRevalidatePrivate: boolean
  sMaxAge: number | undefined
  maxAge: number | undefined
}

const DIGITS = /^\d+$/
const DIRECTIVE = /([!#$%&'*+\-.^_`|~0-9A-Za-z]+)(?:\s*=\s*(?:"([^"]*)"|([^,\s]*)))?/g

function seconds(value: string | undefined): number | undefined {
  if (value === undefined || !DIGITS.test(value)) return undefined
  return Number(value)
}

export function parseCacheControl(header: string): CacheControl {
  const cc: CacheControl = {
    noStore: false,
    noCache: false,
    private: false,
    mustRevalidate: false,
    mustRevalidatePrivate: false,
    sMaxAge: undefined,
    maxAge: undefined,
  }
  for (const match of header.matchAll(DIRECTIVE)) {
    const value = match[2] ?? match[3]
    switch (match[1]!.toLowerCase()) {
      case 'no-store':
        cc.noStore = true
        break
      case 'no-cache':
        cc.noCache = true
        break
      case 'private':
        cc.private = true
        break
      case 'must-revalidate':
        cc.mustRevalidate = cc.mustRevalidatePrivate = true
        break
      case 'proxy-revalidate':
        cc.mustRevalidate = true
        break
      // An invalid value for a freshness directive makes the response stale (RFC 9111 §1.2.2).
      case 's-maxage':
        cc.sMaxAge = seconds(value) ?? 0
        break
      case 'max-age':
        cc.maxAge = seconds(value) ?? 0
        break
    }
  }
  return cc
}

function text(value: OutgoingHttpHeaders[string]): string | undefined {
  if (value === undefined) return undefined
  return Array.isArray(value) ? value.join(', ') : String(value)
}

/** Lower-case names listed in a `Vary` header. */
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

export type Verdict =
  /** `mustRevalidate`: never to be served stale, so stored with no stale-while-revalidate or stale-if-error window. */
  | { kind: 'store'; ttl: number; mustRevalidate: boolean }
  | { kind: 'pass'; reason: string }
  /** A 5xx the user didn't list as storable: a failed handler run, never stored; stale-if-error may stand in. */
  | { kind: 'fail' }

const FAIL: Verdict = { kind: 'fail' }

/** Whether a response may be shared, and for how long (ms). `now` is for `Expires`. */
export function responseVerdict(status: number, headers: OutgoingHttpHeaders, options: ResolvedOptions, perUser: boolean, now: number): Verdict {
  if (!options.statuses.has(status)) return status >= 500 ? FAIL : { kind: 'pass', reason: `status ${status}` }
  if (headers['set-cookie'] !== undefined) return { kind: 'pass', reason: 'set-cookie' }
  if (varyNames(headers.vary).includes('*')) return { kind: 'pass', reason: 'vary *' }
  let ttl = options.ttl
  let mustRevalidate = false
  const cacheControl = text(headers['cache-control'])
  let lifetime: number | undefined
  if (cacheControl !== undefined) {
    const cc = parseCacheControl(cacheControl)
    if (cc.noStore) return { kind: 'pass', reason: 'no-store' }
    if (cc.noCache) return { kind: 'pass', reason: 'no-cache' }
    if (cc.private && !perUser) return { kind: 'pass', reason: 'private' }
    // s-maxage is for shared caches; a per-user entry is a private cache and reads max-age. So are
    // proxy-revalidate and s-maxage's implied proxy-revalidate (RFC 9111 §5.2.2.8, §5.2.2.10).
    mustRevalidate = perUser ? cc.mustRevalidatePrivate : cc.mustRevalidate || cc.sMaxAge !== undefined
    lifetime = (perUser ? undefined : cc.sMaxAge) ?? cc.maxAge
    if (lifetime !== undefined) lifetime *= 1000
  }
  if (lifetime === undefined) {
    const expires = text(headers.expires)
    if (expires !== undefined) {
      const at = Date.parse(expires)
      lifetime = Number.isNaN(at) ? 0 : at - now
    }
  }
  if (lifetime !== undefined && lifetime < ttl) ttl = lifetime
  if (ttl <= 0) return { kind: 'pass', reason: 'already stale' }
  return { kind: 'store', ttl, mustRevalidate }
}
