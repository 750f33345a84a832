import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../src/options.js'
import { parseCacheControl, requestHasCredentials, responseVerdict, varyNames } from '../src/rules.js'

const o = resolveOptions({ ttl: '60s' })
const now = Date.parse('2026-01-01T00:00:00Z')
const verdict = (status: number, headers: Record<string, string | string[]> = {}, perUser = false, options = o) =>
  responseVerdict(status, headers, options, perUser, now)

describe('request side', () => {
  it('treats Authorization and Cookie as credentials', () => {
    expect(requestHasCredentials({ authorization: 'Bearer x' })).toBe(true)
    expect(requestHasCredentials({ cookie: 'sid=1' })).toBe(true)
    expect(requestHasCredentials({ accept: '*/*' })).toBe(false)
  })
})

describe('parseCacheControl', () => {
  it('reads the directives a shared cache cares about', () => {
    expect(parseCacheControl('public, max-age=60, s-maxage="30"')).toMatchObject({ maxAge: 60, sMaxAge: 30, noStore: false, private: false })
    expect(parseCacheControl('No-Store')).toMatchObject({ noStore: true })
    expect(parseCacheControl('private="set-cookie", max-age=5')).toMatchObject({ private: true, maxAge: 5 })
    expect(parseCacheControl('no-cache')).toMatchObject({ noCache: true })
    expect(parseCacheControl('proxy-revalidate')).toMatchObject({ mustRevalidate: true })
  })

  it('treats an invalid max-age as already stale', () => {
    expect(parseCacheControl('max-age=soon').maxAge).toBe(0)
  })
})

describe('responseVerdict', () => {
  it.each([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501])('stores %i by default', (status) => {
    expect(verdict(status)).toEqual({ kind: 'store', ttl: 60_000, mustRevalidate: false })
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

  it('never shares Set-Cookie, no-store, no-cache or Vary: *', () => {
    expect(verdict(200, { 'set-cookie': ['a=1'] })).toEqual({ kind: 'pass', reason: 'set-cookie' })
    expect(verdict(200, { 'cache-control': 'no-store' }).kind).toBe('pass')
    expect(verdict(200, { 'cache-control': 'public, no-cache' }).kind).toBe('pass')
    expect(verdict(200, { vary: 'Accept, *' }).kind).toBe('pass')
  })

  it('keeps private responses out of shared entries, but not out of per-user ones', () => {
    expect(verdict(200, { 'cache-control': 'private, max-age=30' }).kind).toBe('pass')
    expect(verdict(200, { 'cache-control': 'private, max-age=30' }, true)).toEqual({ kind: 'store', ttl: 30_000, mustRevalidate: false })
    expect(verdict(200, { 'set-cookie': 'a=1' }, true).kind).toBe('pass')
  })

  it('lets s-maxage, then max-age, shorten the ttl but never lengthen it', () => {
    expect(verdict(200, { 'cache-control': 'max-age=10' })).toMatchObject({ ttl: 10_000 })
    expect(verdict(200, { 'cache-control': 'max-age=10, s-maxage=5' })).toMatchObject({ ttl: 5_000 })
    expect(verdict(200, { 'cache-control': 's-maxage=5, max-age=1' })).toMatchObject({ ttl: 5_000 })
    expect(verdict(200, { 'cache-control': 'max-age=3600' })).toMatchObject({ ttl: 60_000 })
    expect(verdict(200, { 'cache-control': 'max-age=0' }).kind).toBe('pass')
    expect(verdict(200, { 'cache-control': 's-maxage=0, max-age=60' }).kind).toBe('pass')
  })

  it('reads Expires when there is no max-age', () => {
    expect(verdict(200, { expires: new Date(now + 20_000).toUTCString() })).toMatchObject({ ttl: 20_000 })
    expect(verdict(200, { expires: 'yesterday' }).kind).toBe('pass')
    expect(verdict(200, { expires: new Date(now + 20_000).toUTCString(), 'cache-control': 'max-age=30' })).toMatchObject({ ttl: 30_000 })
  })

  it('remembers must-revalidate', () => {
    expect(verdict(200, { 'cache-control': 'max-age=30, must-revalidate' })).toEqual({ kind: 'store', ttl: 30_000, mustRevalidate: true })
  })

  it('reads proxy-revalidate and s-maxage (which implies it) for shared entries only; must-revalidate for per-user ones too', () => {
    expect(verdict(200, { 'cache-control': 'max-age=30, proxy-revalidate' })).toMatchObject({ kind: 'store', mustRevalidate: true })
    expect(verdict(200, { 'cache-control': 's-maxage=30' })).toEqual({ kind: 'store', ttl: 30_000, mustRevalidate: true })
    expect(verdict(200, { 'cache-control': 'public, max-age=30' })).toMatchObject({ kind: 'store', mustRevalidate: false })
    expect(verdict(200, { 'cache-control': 'max-age=30, proxy-revalidate' }, true)).toMatchObject({ kind: 'store', mustRevalidate: false })
    expect(verdict(200, { 'cache-control': 's-maxage=10, max-age=30' }, true)).toEqual({ kind: 'store', ttl: 30_000, mustRevalidate: false })
    expect(verdict(200, { 'cache-control': 'private, max-age=30, must-revalidate' }, true)).toMatchObject({ kind: 'store', mustRevalidate: true })
    expect(parseCacheControl('must-revalidate')).toMatchObject({ mustRevalidate: true, mustRevalidatePrivate: true })
    expect(parseCacheControl('proxy-revalidate')).toMatchObject({ mustRevalidatePrivate: false })
  })
})

describe('varyNames', () => {
  it('lower-cases, trims and dedupes, from a string or an array', () => {
    expect(varyNames('Accept-Encoding, accept-encoding ,Origin')).toEqual(['accept-encoding', 'origin'])
    expect(varyNames(['Accept', 'Origin'])).toEqual(['accept', 'origin'])
    expect(varyNames(undefined)).toEqual([])
  })
})
