import type { IncomingHttpHeaders } from 'node:http'

/*
 * Key layout. Every part is escaped (`%` and `|` percent-encoded) and parts
 * are joined with `|`, so no request input can forge another key: a `key()`
 * that puts decoded input (`?q=x%00user:bob`) in its key still can't reach a
 * per-user entry, whose key has one part more.
 *   route key    http:<scheme>|<path?sorted-query or your key>[|<user>]
 *   variant      <route key>|v|<generation>|<the Vary values (varyValues)>
 * The route key holds the first response seen for the URL and the names of the
 * headers it varies on. A request whose values differ is served from the
 * variant key, which includes the route entry's generation: deleting the route
 * key orphans every variant at once.
 */
export const KEY_PREFIX = 'http:'

function escapePart(part: string): string {
  // Every request builds its key: skip the regex when there is nothing to escape (most keys).
  if (part.indexOf('%') === -1 && part.indexOf('|') === -1) return part
  return part.replace(/[%|]/g, (c) => (c === '%' ? '%25' : '%7C'))
}

function paramName(part: string): string {
  const eq = part.indexOf('=')
  return eq === -1 ? part : part.slice(0, eq)
}

function byName(a: string, b: string): number {
  const na = paramName(a)
  const nb = paramName(b)
  return na < nb ? -1 : na > nb ? 1 : 0
}

/**
 * Path plus query with its parameters sorted by name, so `?b=2&a=1` and
 * `?a=1&b=2` share an entry. The sort is stable: repeated parameters keep
 * their order (`?a=2&a=1` is not `?a=1&a=2`). Empty parameters are dropped.
 */
export function normalizeUrl(url: string): string {
  const q = url.indexOf('?')
  if (q === -1) return url
  const path = url.slice(0, q)
  if (q === url.length - 1) return path
  const parts = url.slice(q + 1).split('&')
  let kept = parts.length
  for (const part of parts) if (part === '') kept--
  if (kept === 0) return path
  const params = kept === parts.length ? parts : parts.filter((p) => p !== '')
  if (params.length > 1) params.sort(byName)
  return path + '?' + params.join('&')
}

/** The key of a route entry: scheme (as the framework reports it), the URL or your key, and the user of a per-user entry. */
export function routeKey(scheme: string, key: string, user: string | undefined): string {
  const base = KEY_PREFIX + escapePart(scheme) + '|' + escapePart(key)
  return user === undefined ? base : base + '|' + escapePart(user)
}

export function variantKey(route: string, generation: string, values: string): string {
  return route + '|v|' + escapePart(generation) + '|' + escapePart(values)
}

/**
 * The request's values for `names`, one line each: `=value` when present,
 * nothing when absent, so an absent header differs from an empty one. Header
 * values can't hold a line break (Node's parser rejects one), so this is
 * injective; string building rather than JSON, since every hit computes it.
 */
export function varyValues(headers: IncomingHttpHeaders, names: readonly string[]): string {
  let out = ''
  for (let i = 0; i < names.length; i++) {
    const value = headers[names[i]!]
    if (i > 0) out += '\n'
    if (value !== undefined) out += '=' + (typeof value === 'string' ? value : value.join(', '))
  }
  return out
}
