import type { IncomingHttpHeaders } from 'node:http'

/*
 * Key layout (every part is a plain string, so any Store can hold it):
 *   route key    http:<path?sorted-query>            (or http:<your key>)
 *   per user     http:<...>\0user:<id>
 *   variant      <route key>\0v:<generation>\0<values of the Vary headers>
 * The route key holds the first response seen for the URL and the names of the
 * headers it varies on. A request whose values differ is served from the
 * variant key, which includes the route entry's generation: deleting the route
 * key orphans every variant at once.
 */
export const KEY_PREFIX = 'http:'

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

export function routeKey(key: string, user: string | undefined): string {
  return user === undefined ? KEY_PREFIX + key : KEY_PREFIX + key + '\u0000user:' + user
}

export function variantKey(route: string, generation: string, values: string): string {
  return route + '\u0000v:' + generation + '\u0000' + values
}

/** The request's values for `names`, joined; a header that is absent counts as empty. */
export function varyValues(headers: IncomingHttpHeaders, names: readonly string[]): string {
  let out = ''
  for (let i = 0; i < names.length; i++) {
    const value = headers[names[i]!]
    if (i > 0) out += '\u0001'
    if (value !== undefined) out += typeof value === 'string' ? value : value.join(', ')
  }
  return out
}
