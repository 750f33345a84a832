import { IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import { HerdArgumentError, toMs, type Duration, type Herd } from '@herd/core'

/** Statuses RFC 9110 §15.1 lets a cache store without explicit freshness. */
export const DEFAULT_STATUSES: readonly number[] = [200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]

/** What a `key` function may return: a shared key, a per-user key, or a falsy value to skip the cache. */
export type KeyResult = string | { key: string; user: string } | false | null | undefined

/**
 * Options of `herdCache()`. `Source` is what the framework hands the key
 * function: Express's `req`, Koa's `ctx`.
 */
export interface HttpCacheOptions<Source = unknown> {
  /** How long a response is fresh. Required. `s-maxage` / `max-age` from the handler may shorten it. */
  ttl: Duration
  /** How long past `ttl` a stale response is served while one handler run refreshes it. Default 0. A response's `stale-while-revalidate` may shorten it. */
  staleWhileRevalidate?: Duration
  /** How long past `ttl` a stale response stands in when the handler fails (throws, or answers 5xx). Default 0. A response's `stale-if-error` may shorten it. */
  staleIfError?: Duration
  /** The herd that coalesces and stores. Default: an in-memory herd of this middleware's own, so two apps in one process never see each other's entries. */
  herd?: Herd
  /**
   * Cache key. Gets the framework's request (`req` / `ctx`) and the default key
   * (path and sorted query). Return a string to share the entry, `{ key, user }`
   * to keep one entry per user (then requests with `Authorization` or `Cookie`
   * are cached too, for that user only), or a falsy value to skip the cache.
   */
  key?: (source: Source, url: string) => KeyResult
  /** Methods served from the cache: a subset of GET and HEAD. Default both (HEAD is served from the GET entry). */
  methods?: readonly string[]
  /** Statuses that may be stored. Default: RFC 9110's cacheable-by-default list. */
  statuses?: readonly number[]
  /** Request headers every entry varies on, on top of `Host` and the response's own `Vary`. */
  vary?: readonly string[]
  /** Responses with a body larger than this are served but not stored. Bytes, or '512kb', '1mb'. Default '1mb'. */
  maxBodySize?: number | string
  /** Name of the header telling HIT, STALE, MISS or BYPASS; `false` leaves it out. Default 'x-cache'. */
  cacheHeader?: string | false
  /** How long a "not shareable" verdict is remembered so concurrent requests run their own handler at once (hit-for-pass). Default: ttl, at most 30s. */
  passTtl?: Duration
  /** Adds a weak ETag to stored responses that have none, so clients can revalidate with If-None-Match. Default true. */
  etag?: boolean
  /** Longest a background refresh's handler may run before it is abandoned. Default: the herd's hardTimeout. */
  hardTimeout?: Duration
  /**
   * Read a targeted cache-control field (RFC 9213) meant for herd's shared
   * cache: `true` for `CDN-Cache-Control`, or a field name such as
   * `'Herd-Cache-Control'`. When a response has it, it replaces
   * `Cache-Control` and `Expires` for herd (never the `Set-Cookie` and
   * credentials rules). Default: off.
   */
  cdnCacheControl?: boolean | string
  /**
   * Tags for every response this middleware stores: an array, or a function
   * of the request (`req` / `ctx`) and the response's status and headers.
   * `cache.expireTags([...])` / `cache.deleteTags([...])` invalidate them,
   * in every process. The handler may add its own in the `Cache-Tag` header.
   */
  tags?: readonly string[] | ((source: Source, response: { status: number; headers: OutgoingHttpHeaders }) => readonly string[] | undefined)
  /** The response header the handler names tags in (comma separated); never sent to the client. `false` ignores it. Default 'cache-tag'. */
  tagHeader?: string | false
}

export interface ResolvedOptions {
  ttl: number
  staleWhileRevalidate: number
  staleIfError: number
  herd: Herd | undefined
  key: ((source: never, url: string) => KeyResult) | undefined
  methods: ReadonlySet<string>
  statuses: ReadonlySet<number>
  /** Always starts with 'host'. */
  vary: readonly string[]
  maxBodySize: number
  cacheHeader: string | undefined
  passTtl: number
  etag: boolean
  hardTimeout: number | undefined
  /** Lower-case name of the targeted cache-control field, when opted in. */
  cdnCacheControl: string | undefined
  tags: readonly string[] | ((source: never, response: { status: number; headers: OutgoingHttpHeaders }) => readonly string[] | undefined) | undefined
  /** Lower-case name of the tag header, when read. */
  tagHeader: string | undefined
}

const KNOWN = new Set([
  'ttl',
  'staleWhileRevalidate',
  'staleIfError',
  'herd',
  'key',
  'methods',
  'statuses',
  'vary',
  'maxBodySize',
  'cacheHeader',
  'passTtl',
  'etag',
  'hardTimeout',
  'cdnCacheControl',
  'tags',
  'tagHeader',
])
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const SIZE = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)\s*$/i
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }

function fail(message: string): never {
  throw new HerdArgumentError(`herdCache: ${message}`)
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return 'an array'
  if (value === null) return 'null'
  return typeof value === 'object' ? 'an object' : String(value)
}

/** A Node request, or a Koa context: what a framework hands a middleware that was registered uncalled. */
function isRequestLike(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false
  if (value instanceof IncomingMessage) return true
  const v = value as { req?: unknown; res?: unknown; app?: unknown }
  return v.req instanceof IncomingMessage && v.res !== undefined && v.app !== undefined
}

/** Bytes as a number, or a string such as '512kb' or '1mb' (1024-based). */
export function parseSize(value: number | string, name: string): number {
  if (typeof value === 'number') {
    if (value === Infinity || (Number.isInteger(value) && value >= 0)) return value
  } else if (typeof value === 'string') {
    const match = SIZE.exec(value)
    if (match) return Math.floor(Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!)
  }
  return fail(`${name} must be a whole number of bytes >= 0 or a string like '512kb', '1mb'; got ${show(value)}`)
}

function duration(value: Duration, name: string): number {
  try {
    return toMs(value, name)
  } catch (error) {
    return fail((error as Error).message.replace(/^herd: /, ''))
  }
}

function positive(value: Duration, name: string): number {
  const ms = duration(value, name)
  if (ms <= 0) fail(`${name} must be greater than 0; got ${show(value)}`)
  return ms
}

function headerNames(value: unknown, name: string): string[] {
  if (!Array.isArray(value)) fail(`${name} must be an array of request header names; got ${show(value)}`)
  return value.map((h) => {
    if (typeof h !== 'string' || !TOKEN.test(h)) fail(`${name} has an invalid header name ${show(h)}`)
    return h.toLowerCase()
  })
}

/** Validates `herdCache(ttl)` / `herdCache({...})` once, at creation: every mistake throws HerdArgumentError here, never per request. */
export function resolveOptions(input: Duration | HttpCacheOptions<never>): ResolvedOptions {
  if (isRequestLike(input)) {
    fail(
      'was given a request instead of options: it was passed to app.use() without being called. ' +
        "Write app.use(herdCache('30s')) or app.use(herdCache({ ttl: '30s' })), not app.use(herdCache)",
    )
  }
  const o: HttpCacheOptions<never> =
    typeof input === 'number' || typeof input === 'string'
      ? { ttl: input }
      : input !== null && typeof input === 'object' && !Array.isArray(input)
        ? input
        : fail(`expects a ttl ('30s', 30000) or an options object; got ${show(input)}`)
  for (const name of Object.keys(o)) if (!KNOWN.has(name)) fail(`unknown option ${JSON.stringify(name)}`)
  if (o.ttl === undefined) fail(`ttl is required, e.g. herdCache('30s') or herdCache({ ttl: '30s' })`)
  const ttl = positive(o.ttl, 'ttl')

  if (o.herd !== undefined && (o.herd === null || typeof o.herd !== 'object' || typeof o.herd.fetchEntry !== 'function')) {
    fail(`herd must be a herd from createHerd(); got ${show(o.herd)}`)
  }
  if (o.key !== undefined && typeof o.key !== 'function') fail(`key must be a function; got ${show(o.key)}`)

  let methods: Set<string> = new Set(['GET', 'HEAD'])
  if (o.methods !== undefined) {
    if (!Array.isArray(o.methods) || o.methods.length === 0) fail(`methods must be a non-empty array of 'GET' and/or 'HEAD'; got ${show(o.methods)}`)
    methods = new Set(
      o.methods.map((m) => {
        const upper = typeof m === 'string' ? m.toUpperCase() : ''
        if (upper !== 'GET' && upper !== 'HEAD') fail(`methods may only hold 'GET' and 'HEAD' (other methods are not safe to share); got ${show(m)}`)
        return upper
      }),
    )
  }

  let statuses: Set<number> = new Set(DEFAULT_STATUSES)
  if (o.statuses !== undefined) {
    if (!Array.isArray(o.statuses)) fail(`statuses must be an array of status codes; got ${show(o.statuses)}`)
    statuses = new Set(
      o.statuses.map((s) => {
        if (typeof s !== 'number' || !Number.isInteger(s) || s < 200 || s > 599 || s === 206 || s === 304) {
          fail(`statuses may hold final statuses 200-599 except 206 and 304 (a cache can't serve a partial or a 304 as the full response); got ${show(s)}`)
        }
        return s
      }),
    )
  }

  const vary = ['host']
  if (o.vary !== undefined) for (const h of headerNames(o.vary, 'vary')) if (!vary.includes(h)) vary.push(h)

  let cacheHeader: string | undefined = 'x-cache'
  if (o.cacheHeader !== undefined) {
    if (o.cacheHeader === false) cacheHeader = undefined
    else if (typeof o.cacheHeader === 'string' && TOKEN.test(o.cacheHeader)) cacheHeader = o.cacheHeader.toLowerCase()
    else fail(`cacheHeader must be a header name or false; got ${show(o.cacheHeader)}`)
  }

  if (o.etag !== undefined && typeof o.etag !== 'boolean') fail(`etag must be true or false; got ${show(o.etag)}`)

  let cdnCacheControl: string | undefined
  if (o.cdnCacheControl === true) cdnCacheControl = 'cdn-cache-control'
  else if (typeof o.cdnCacheControl === 'string' && TOKEN.test(o.cdnCacheControl)) cdnCacheControl = o.cdnCacheControl.toLowerCase()
  else if (o.cdnCacheControl !== undefined && o.cdnCacheControl !== false)
    fail(`cdnCacheControl must be true, false or a header name; got ${show(o.cdnCacheControl)}`)

  if (o.tags !== undefined && typeof o.tags !== 'function') {
    if (!Array.isArray(o.tags) || o.tags.some((t) => typeof t !== 'string' || t.length === 0))
      fail(`tags must be an array of non-empty strings or a function; got ${show(o.tags)}`)
  }
  let tagHeader: string | undefined = 'cache-tag'
  if (o.tagHeader === false) tagHeader = undefined
  else if (typeof o.tagHeader === 'string' && TOKEN.test(o.tagHeader)) tagHeader = o.tagHeader.toLowerCase()
  else if (o.tagHeader !== undefined) fail(`tagHeader must be a header name or false; got ${show(o.tagHeader)}`)

  return {
    ttl,
    staleWhileRevalidate: o.staleWhileRevalidate === undefined ? 0 : duration(o.staleWhileRevalidate, 'staleWhileRevalidate'),
    staleIfError: o.staleIfError === undefined ? 0 : duration(o.staleIfError, 'staleIfError'),
    herd: o.herd,
    key: o.key,
    methods,
    statuses,
    vary,
    maxBodySize: o.maxBodySize === undefined ? 1024 * 1024 : parseSize(o.maxBodySize, 'maxBodySize'),
    cacheHeader,
    passTtl: o.passTtl === undefined ? Math.min(ttl, 30_000) : duration(o.passTtl, 'passTtl'),
    etag: o.etag ?? true,
    hardTimeout: o.hardTimeout === undefined ? undefined : positive(o.hardTimeout, 'hardTimeout'),
    cdnCacheControl,
    tags: o.tags,
    tagHeader,
  }
}
