import { describe, expect, it } from 'vitest'
import { createHerd, HerdArgumentError } from '@herd/core'
import { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import { HttpCache } from '../src/engine.js'
import { DEFAULT_STATUSES, parseSize, resolveOptions } from '../src/options.js'

describe('resolveOptions', () => {
  it('takes a bare ttl as a duration string or ms', () => {
    expect(resolveOptions('30s').ttl).toBe(30_000)
    expect(resolveOptions(1500).ttl).toBe(1500)
  })

  it('fills the defaults', () => {
    const o = resolveOptions({ ttl: '2m' })
    expect(o.staleWhileRevalidate).toBe(0)
    expect(o.staleIfError).toBe(0)
    expect([...o.methods]).toEqual(['GET', 'HEAD'])
    expect([...o.statuses]).toEqual(DEFAULT_STATUSES)
    expect(o.vary).toEqual(['host'])
    expect(o.maxBodySize).toBe(1024 * 1024)
    expect(o.cacheHeader).toBe('x-cache')
    expect(o.passTtl).toBe(30_000)
    expect(o.etag).toBe(true)
    expect(o.herd).toBeUndefined()
  })

  it('caps the default passTtl at the ttl', () => {
    expect(resolveOptions('5s').passTtl).toBe(5000)
  })

  it('normalises methods, vary and the cache header name', () => {
    const herd = createHerd()
    const o = resolveOptions({ ttl: 1000, methods: ['get'], vary: ['Accept-Language', 'host'], cacheHeader: 'X-My-Cache', herd, passTtl: 0 })
    expect([...o.methods]).toEqual(['GET'])
    expect(o.vary).toEqual(['host', 'accept-language'])
    expect(o.cacheHeader).toBe('x-my-cache')
    expect(o.herd).toBe(herd)
    expect(o.passTtl).toBe(0)
    expect(resolveOptions({ ttl: 1000, cacheHeader: false }).cacheHeader).toBeUndefined()
    void herd.close()
  })

  it.each([
    ['no ttl', {}],
    ['a zero ttl', { ttl: 0 }],
    ['a negative ttl', { ttl: -5 }],
    ['an unparseable ttl', { ttl: 'soon' }],
    ['NaN', { ttl: Number.NaN }],
    ['an unknown option', { ttl: '1s', tll: '1s' }],
    ['POST in methods', { ttl: '1s', methods: ['GET', 'POST'] }],
    ['empty methods', { ttl: '1s', methods: [] }],
    ['206 in statuses', { ttl: '1s', statuses: [200, 206] }],
    ['304 in statuses', { ttl: '1s', statuses: [304] }],
    ['a 1xx status', { ttl: '1s', statuses: [101] }],
    ['a fractional status', { ttl: '1s', statuses: [200.5] }],
    ['a bad vary header', { ttl: '1s', vary: ['accept language'] }],
    ['vary as a string', { ttl: '1s', vary: 'accept-language' }],
    ['a bad maxBodySize', { ttl: '1s', maxBodySize: '1 lightyear' }],
    ['a negative maxBodySize', { ttl: '1s', maxBodySize: -1 }],
    ['a bad cacheHeader', { ttl: '1s', cacheHeader: 'x cache' }],
    ['a non-function key', { ttl: '1s', key: 'url' }],
    ['a non-herd herd', { ttl: '1s', herd: {} }],
    ['a herd without fetchEntry', { ttl: '1s', herd: { fetch: () => undefined } }],
    ['a non-boolean etag', { ttl: '1s', etag: 'yes' }],
    ['a bad staleWhileRevalidate', { ttl: '1s', staleWhileRevalidate: '-1s' }],
    ['a zero hardTimeout', { ttl: '1s', hardTimeout: 0 }],
  ])('throws HerdArgumentError for %s', (_name, input) => {
    expect(() => resolveOptions(input as never)).toThrow(HerdArgumentError)
  })

  it('throws for something that is neither a ttl nor an object', () => {
    expect(() => resolveOptions(null as never)).toThrow(/expects a ttl/)
    expect(() => resolveOptions([] as never)).toThrow(HerdArgumentError)
  })

  it('validates cdnCacheControl', () => {
    expect(resolveOptions({ ttl: '1s', cdnCacheControl: true }).cdnCacheControl).toBe('cdn-cache-control')
    expect(resolveOptions({ ttl: '1s', cdnCacheControl: 'Herd-Cache-Control' }).cdnCacheControl).toBe('herd-cache-control')
    expect(resolveOptions({ ttl: '1s', cdnCacheControl: false }).cdnCacheControl).toBeUndefined()
    expect(() => resolveOptions({ ttl: '1s', cdnCacheControl: 'not a header' })).toThrow(/cdnCacheControl/)
  })

  it('says what is wrong when given a request instead of options (app.use(herdCache), uncalled)', () => {
    const req = new IncomingMessage(new Socket())
    expect(() => resolveOptions(req as never)).toThrow(/passed to app\.use\(\) without being called/)
    expect(() => resolveOptions({ req, res: {}, app: {} } as never)).toThrow(HerdArgumentError)
  })

  it('rejects a bad scheme or user in invalidation calls', () => {
    const cache = new HttpCache({ ttl: '1s' })
    expect(() => cache.keyFor('/a', { scheme: 'ftp' as never })).toThrow(HerdArgumentError)
    expect(() => cache.keyFor('/a', { user: 7 as never })).toThrow(HerdArgumentError)
    expect(cache.keyFor('/a', { scheme: 'https', user: 'u' })).toBe('http:https|/a|u')
  })

  it('names the option in the message', () => {
    expect(() => resolveOptions({ ttl: '1s', maxBodySize: 'lots' })).toThrow(/maxBodySize/)
    expect(() => resolveOptions({ ttl: 'lots' })).toThrow(/herdCache: ttl/)
  })
})

describe('parseSize', () => {
  it('reads bytes and 1024-based units', () => {
    expect(parseSize(10, 'x')).toBe(10)
    expect(parseSize('512kb', 'x')).toBe(512 * 1024)
    expect(parseSize('1.5MB', 'x')).toBe(1.5 * 1024 * 1024)
    expect(parseSize('2 gb', 'x')).toBe(2 * 1024 ** 3)
    expect(parseSize(Infinity, 'x')).toBe(Infinity)
  })
})
