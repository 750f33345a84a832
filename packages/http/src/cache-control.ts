/*
 * Cache-Control (and RFC 9213's targeted fields, such as CDN-Cache-Control)
 * parsed by the grammar of RFC 9110 §5.6 and RFC 9111 §5.2: directives are
 * tokens, values a token or a quoted-string (with backslash escapes, and
 * commas inside). http-cache-semantics splits on every comma and lets the last
 * duplicate win; see test/library-evaluation.test.ts for what that gets wrong.
 */

/** The directives herd acts on. Seconds; `undefined` when absent. */
export interface CacheControl {
  noStore: boolean
  /** Unqualified or with field names: a shared cache may treat both as unqualified (RFC 9111 §5.2.2.4). */
  noCache: boolean
  /** Unqualified or with field names, treated alike for the same reason. */
  private: boolean
  mustRevalidate: boolean
  proxyRevalidate: boolean
  maxAge: number | undefined
  sMaxAge: number | undefined
  /** RFC 5861. */
  staleWhileRevalidate: number | undefined
  staleIfError: number | undefined
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/
/** RFC 9111 §1.2.2: a delta-seconds larger than this is sent as this. */
const MAX_DELTA = 2_147_483_648

function isOws(c: string | undefined): boolean {
  return c === ' ' || c === '\t'
}

/** Directive name (lower-case) to its value: the token or unquoted string, `true` without one. Duplicates are listed in order. */
export function parseDirectives(header: string): Map<string, Array<string | true>> {
  const out = new Map<string, Array<string | true>>()
  let i = 0
  const n = header.length
  while (i < n) {
    while (i < n && (isOws(header[i]) || header[i] === ',')) i++
    const start = i
    while (i < n && TOKEN_CHAR.test(header[i]!)) i++
    const name = header.slice(start, i).toLowerCase()
    while (i < n && isOws(header[i])) i++
    let value: string | true = true
    if (header[i] === '=') {
      i++
      while (i < n && isOws(header[i])) i++
      if (header[i] === '"') {
        let text = ''
        i++
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++
          text += header[i]
          i++
        }
        i++
        value = text
      } else {
        const from = i
        while (i < n && TOKEN_CHAR.test(header[i]!)) i++
        value = header.slice(from, i)
      }
    }
    // Anything else up to the next comma is not the grammar: skip it, and the directive with it when it had no name.
    let junk = false
    while (i < n && header[i] !== ',') {
      if (!isOws(header[i])) junk = true
      i++
    }
    if (name === '' || (junk && value !== true)) continue
    const list = out.get(name)
    if (list === undefined) out.set(name, [value])
    else list.push(value)
  }
  return out
}

/**
 * A delta-seconds directive: `undefined` when absent; 0 (stale) when invalid
 * (RFC 9111 §4.2.1: "considered stale") or given twice with different values;
 * accepted quoted too (§5.2: recipients SHOULD accept both forms).
 */
function deltaSeconds(values: Array<string | true> | undefined): number | undefined {
  if (values === undefined) return undefined
  const first = values[0]
  for (const v of values) if (v !== first) return 0
  if (first === true || !/^\d+$/.test(first!)) return 0
  return Math.min(Number(first), MAX_DELTA)
}

export function parseCacheControl(header: string): CacheControl {
  const d = parseDirectives(header)
  return {
    noStore: d.has('no-store'),
    noCache: d.has('no-cache'),
    private: d.has('private'),
    mustRevalidate: d.has('must-revalidate'),
    proxyRevalidate: d.has('proxy-revalidate'),
    maxAge: deltaSeconds(d.get('max-age')),
    sMaxAge: deltaSeconds(d.get('s-maxage')),
    staleWhileRevalidate: deltaSeconds(d.get('stale-while-revalidate')),
    staleIfError: deltaSeconds(d.get('stale-if-error')),
  }
}
