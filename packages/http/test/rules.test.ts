import { describe, expect, it } from 'vitest'
import { parseCacheControl, parseDirectives } from '../src/cache-control.js'
import { freshnessLifetime, initialAge } from '../src/freshness.js'
import { resolveOptions } from '../src/options.js'
import { isUnsafeMethod, requestHasBody, requestHasCredentials, responseVerdict, varyNames } from '../src/rules.js'

const o = resolveOptions({ ttl: '60s', etag: false })
const now = Date.parse('2026-01-01T00:00:00Z')
const at = (offsetMs: number) => new Date(now + offsetMs).toUTCString()
const verdict = (status: number, headers: Record<string, string | string[]> = {}, perUser = false, options = o) =>
  responseVerdict({ status, headers, options, perUser, now })
const stored = (ttl: number, over: Record<string, unknown> = {}) => ({
  kind: 'store',
  ttl,
  staleWhileRevalidate: 0,
  staleIfError: 0,
  revalidate: 'stale-ok',
  age: 0,
  ...over,
})

describe('request side', () => {
  it('treats Authorization and Cookie as credentials', () => {
    expect(requestHasCredentials({ authorization: 'Bearer x' })).toBe(true)
    expect(requestHasCredentials({ cookie: 'sid=1' })).toBe(true)
    expect(requestHasCredentials({ accept: '*/*' })).toBe(false)
  })

  it('tells a request with a body (a fat GET)', () => {
    expect(requestHasBody({ 'content-length': '3' })).toBe(true)
    expect(requestHasBody({ 'transfer-encoding': 'chunked' })).toBe(true)
    expect(requestHasBody({ 'content-length': '0' })).toBe(false)
    expect(requestHasBody({})).toBe(false)
  })

  it('counts every method but GET, HEAD, OPTIONS and TRACE as unsafe', () => {
    expect(['POST', 'PUT', 'DELETE', 'PATCH', 'PURGE'].every(isUnsafeMethod)).toBe(true)
    expect(['GET', 'HEAD', 'OPTIONS', 'TRACE'].some(isUnsafeMethod)).toBe(false)
  })
})

describe('parseCacheControl (RFC 9111 §5.2 grammar)', () => {
  it('reads the directives a shared cache cares about, case-insensitively, quoted or not', () => {
    expect(parseCacheControl('public, max-age=60, s-maxage="30"')).toMatchObject({ maxAge: 60, sMaxAge: 30, noStore: false, private: false })
    expect(parseCacheControl('No-Store')).toMatchObject({ noStore: true })
    expect(parseCacheControl('no-cache')).toMatchObject({ noCache: true })
    expect(parseCacheControl('proxy-revalidate')).toMatchObject({ proxyRevalidate: true, mustRevalidate: false })
    expect(parseCacheControl('max-age=5, stale-while-revalidate=30, stale-if-error=600')).toMatchObject({ staleWhileRevalidate: 30, staleIfError: 600 })
  })

  it('keeps commas and escaped quotes inside quoted values', () => {
    expect(parseCacheControl('private="set-cookie, x-a", max-age=5')).toMatchObject({ private: true, maxAge: 5 })
    expect(parseCacheControl('ext="a \\" no-store, max-age=1", max-age=9')).toMatchObject({ noStore: false, maxAge: 9 })
    expect([...parseDirectives('ext="a, b"').entries()]).toEqual([['ext', ['a, b']]])
  })

  it('treats an invalid delta-seconds as already stale', () => {
    for (const bad of ['max-age=soon', 'max-age=-1', 'max-age=1.5', 'max-age=60abc', 'max-age=1e3', 'max-age']) {
      expect(parseCacheControl(bad).maxAge, bad).toBe(0)
    }
  })

  it('treats conflicting duplicates as stale, and agreeing ones as the value', () => {
    expect(parseCacheControl('max-age=0, max-age=3600').maxAge).toBe(0)
    expect(parseCacheControl('max-age=3600, max-age=10').maxAge).toBe(0)
    expect(parseCacheControl('max-age=60, max-age=60').maxAge).toBe(60)
  })

  it('caps delta-seconds at 2^31', () => {
    expect(parseCacheControl('max-age=99999999999999').maxAge).toBe(2_147_483_648)
  })
})

describe('age and freshness lifetime (RFC 9111 §4.2)', () => {
  it('takes the larger of Age and how far Date is in the past; ignores an invalid Age', () => {
    expect(initialAge({}, now)).toBe(0)
    expect(initialAge({ age: '30' }, now)).toBe(30_000)
    expect(initialAge({ date: at(-50_000) }, now)).toBe(50_000)
    expect(initialAge({ date: at(-50_000), age: '70' }, now)).toBe(70_000)
    expect(initialAge({ date: at(+50_000) }, now)).toBe(0)
    expect(initialAge({ age: 'old' }, now)).toBe(0)
  })

  it('reads s-maxage for shared caches, then max-age, then Expires minus Date', () => {
    const cc = parseCacheControl('max-age=10, s-maxage=5')
    expect(freshnessLifetime(cc, {}, true, true, now)).toBe(5_000)
    expect(freshnessLifetime(cc, {}, false, true, now)).toBe(10_000)
    expect(freshnessLifetime(undefined, { expires: at(30_000) }, true, true, now)).toBe(30_000)
    // Against the response's own Date, not herd's clock: a handler whose clock runs an hour ahead still means 30 s.
    expect(freshnessLifetime(undefined, { date: at(3_600_000), expires: at(3_630_000) }, true, true, now)).toBe(30_000)
    expect(freshnessLifetime(undefined, { expires: 'yesterday' }, true, true, now)).toBe(0)
    expect(freshnessLifetime(undefined, { expires: [at(5_000), at(9_000)] } as never, true, true, now)).toBe(0)
    expect(freshnessLifetime(undefined, {}, true, true, now)).toBeUndefined()
  })
})

describe('responseVerdict', () => {
  it.each([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501])('stores %i by default', (status) => {
    expect(verdict(status)).toEqual(stored(60_000))
  })

  it.each([201, 202, 302, 307, 400, 401, 403, 409, 429])('passes %i by default', (status) => {
    expect(verdict(status).kind).toBe('pass')
  })

  it.each([500, 502, 503, 504])('counts an unlisted %i as a failed run', (status) => {
    expect(verdict(status).kind).toBe('fail')
  })

  it('follows a widened or narrowed status list', () => {
    const narrow = resolveOptions({ ttl: '60s', statuses: [200] })
    expect(verdict(404, {}, false, narrow).kind).toBe('pass')
    const wide = resolveOptions({ ttl: '60s', statuses: [200, 302, 503] })
    expect(verdict(302, {}, false, wide).kind).toBe('store')
    expect(verdict(503, {}, false, wide).kind).toBe('store')
  })

  it('never shares Set-Cookie, no-store or Vary: *', () => {
    expect(verdict(200, { 'set-cookie': ['a=1'] })).toEqual({ kind: 'pass', reason: 'set-cookie' })
    expect(verdict(200, { 'cache-control': 'no-store' }).kind).toBe('pass')
    expect(verdict(200, { vary: 'Accept, *' }).kind).toBe('pass')
  })

  it('stores no-cache to revalidate on every use, when there is a validator to revalidate with', () => {
    expect(verdict(200, { 'cache-control': 'public, no-cache' })).toEqual({ kind: 'pass', reason: 'no-cache without a validator' })
    expect(verdict(200, { 'cache-control': 'no-cache', etag: '"a"' })).toMatchObject({ kind: 'store', revalidate: 'always' })
    expect(verdict(200, { 'cache-control': 'no-cache' }, false, resolveOptions({ ttl: '60s' }))).toMatchObject({ kind: 'store', revalidate: 'always' })
  })

  it('keeps private responses out of shared entries, but not out of per-user ones', () => {
    expect(verdict(200, { 'cache-control': 'private, max-age=30' }).kind).toBe('pass')
    expect(verdict(200, { 'cache-control': 'private, max-age=30' }, true)).toEqual(stored(30_000))
    expect(verdict(200, { 'set-cookie': 'a=1' }, true).kind).toBe('pass')
  })

  it('lets s-maxage, then max-age, shorten the ttl but never lengthen it', () => {
    expect(verdict(200, { 'cache-control': 'max-age=10' })).toMatchObject({ ttl: 10_000 })
    expect(verdict(200, { 'cache-control': 'max-age=10, s-maxage=5' })).toMatchObject({ ttl: 5_000 })
    expect(verdict(200, { 'cache-control': 'max-age=3600' })).toMatchObject({ ttl: 60_000 })
  })

  it('shortens freshness by the age the response already has', () => {
    expect(verdict(200, { 'cache-control': 'max-age=60', age: '50' })).toMatchObject({ kind: 'store', ttl: 10_000, age: 50_000 })
    expect(verdict(200, { 'cache-control': 'max-age=60', date: at(-45_000) })).toMatchObject({ ttl: 15_000, age: 45_000 })
  })

  it('revalidates a response that arrives stale, and passes it without a validator', () => {
    expect(verdict(200, { 'cache-control': 'max-age=60', age: '70', etag: '"x"' })).toMatchObject({ kind: 'store', revalidate: 'always', ttl: 0 })
    expect(verdict(200, { 'cache-control': 'max-age=0' })).toEqual({ kind: 'pass', reason: 'already stale' })
    expect(verdict(200, { expires: 'yesterday' }).kind).toBe('pass')
  })

  it('reads Expires (against Date) only when there is no max-age', () => {
    expect(verdict(200, { expires: at(20_000) })).toMatchObject({ ttl: 20_000 })
    expect(verdict(200, { expires: at(20_000), 'cache-control': 'max-age=30' })).toMatchObject({ ttl: 30_000 })
    expect(verdict(200, { date: at(3_600_000), expires: at(3_630_000) })).toMatchObject({ ttl: 30_000 })
  })

  it('remembers must-revalidate; proxy-revalidate and s-maxage bind shared entries only', () => {
    expect(verdict(200, { 'cache-control': 'max-age=30, must-revalidate' })).toEqual(stored(30_000, { revalidate: 'when-stale' }))
    expect(verdict(200, { 'cache-control': 'max-age=30, proxy-revalidate' })).toMatchObject({ revalidate: 'when-stale' })
    expect(verdict(200, { 'cache-control': 's-maxage=30' })).toMatchObject({ revalidate: 'when-stale' })
    expect(verdict(200, { 'cache-control': 'max-age=30, proxy-revalidate' }, true)).toMatchObject({ revalidate: 'stale-ok' })
    expect(verdict(200, { 'cache-control': 'private, max-age=30, must-revalidate' }, true)).toMatchObject({ revalidate: 'when-stale' })
  })

  it('takes stale-while-revalidate and stale-if-error from the response, capped by the options', () => {
    const windows = resolveOptions({ ttl: '60s', staleWhileRevalidate: '1m', staleIfError: '10m' })
    expect(verdict(200, {}, false, windows)).toMatchObject({ staleWhileRevalidate: 60_000, staleIfError: 600_000 })
    expect(verdict(200, { 'cache-control': 'max-age=5, stale-while-revalidate=10, stale-if-error=20' }, false, windows)).toMatchObject({
      staleWhileRevalidate: 10_000,
      staleIfError: 20_000,
    })
    expect(verdict(200, { 'cache-control': 'stale-while-revalidate=3600, stale-if-error=86400' }, false, windows)).toMatchObject({
      staleWhileRevalidate: 60_000,
      staleIfError: 600_000,
    })
    expect(verdict(200, { 'cache-control': 'stale-while-revalidate=30' })).toMatchObject({ staleWhileRevalidate: 0 })
  })

  it('reads a targeted field (RFC 9213) only when opted in, and then instead of Cache-Control and Expires', () => {
    const cdn = resolveOptions({ ttl: '60s', cdnCacheControl: true })
    const headers = { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=30', expires: 'yesterday' }
    expect(verdict(200, headers).kind).toBe('pass')
    expect(verdict(200, headers, false, cdn)).toMatchObject({ kind: 'store', ttl: 30_000 })
    expect(verdict(200, { 'cache-control': 'max-age=5' }, false, cdn)).toMatchObject({ ttl: 5_000 })
    expect(verdict(200, { 'herd-cache-control': 'no-store' }, false, resolveOptions({ ttl: '60s', cdnCacheControl: 'Herd-Cache-Control' })).kind).toBe(
      'pass',
    )
    expect(verdict(200, { 'cdn-cache-control': 'max-age=30', 'set-cookie': 'a=1' }, false, cdn).kind).toBe('pass')
  })
})

describe('varyNames', () => {
  it('lower-cases, trims and dedupes, from a string or an array', () => {
    expect(varyNames('Accept-Encoding, accept-encoding ,Origin')).toEqual(['accept-encoding', 'origin'])
    expect(varyNames(['Accept', 'Origin'])).toEqual(['accept', 'origin'])
    expect(varyNames(undefined)).toEqual([])
  })
})
