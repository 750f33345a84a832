import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import { normalizeUrl } from './keys.js'

/** A route entry to drop: both schemes are dropped for a URL, since a write over either changes the resource. */
export interface Target {
  scheme: string
  key: string
  user: string | undefined
}

const SCHEMES = ['http', 'https']

function first(value: OutgoingHttpHeaders[string]): string | undefined {
  if (value === undefined) return undefined
  return Array.isArray(value) ? (value[0] === undefined ? undefined : String(value[0])) : String(value)
}

/** The path and query of `location` when it is on the request's own origin (a MAY of RFC 9111 §4.4, never another site's). */
function sameOrigin(location: string, scheme: string, host: string | undefined): string | undefined {
  if (host === undefined) return undefined
  try {
    const base = `${scheme}://${host}`
    const url = new URL(location, base + '/')
    if (url.origin !== new URL(base).origin) return undefined
    return normalizeUrl(url.pathname + url.search)
  } catch {
    return undefined
  }
}

/**
 * What a successful unsafe request invalidates: the entry its URL (or your
 * `key()`) maps to, shared and per user, and with default keys the entries of
 * a same-origin `Location` and `Content-Location`.
 */
export function invalidationTargets(
  ex: { req: IncomingMessage; scheme: string },
  headers: OutgoingHttpHeaders,
  planned: { key: string; user: string | undefined } | undefined,
  defaultKeys: boolean,
): Target[] {
  if (planned === undefined) return []
  const keys = [planned.key]
  if (defaultKeys) {
    for (const name of ['location', 'content-location']) {
      const value = first(headers[name])
      const path = value === undefined ? undefined : sameOrigin(value, ex.scheme, ex.req.headers.host)
      if (path !== undefined && !keys.includes(path)) keys.push(path)
    }
  }
  const targets: Target[] = []
  for (const scheme of SCHEMES) {
    for (const key of keys) {
      targets.push({ scheme, key, user: undefined })
      // A per-user write also changes what everyone else is shown.
      if (planned.user !== undefined && key === planned.key) targets.push({ scheme, key, user: planned.user })
    }
  }
  return targets
}
