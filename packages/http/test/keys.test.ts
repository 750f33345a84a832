import { describe, expect, it } from 'vitest'
import { normalizeUrl, routeKey, variantKey, varyValues } from '../src/keys.js'

describe('normalizeUrl', () => {
  it('leaves a URL without a query alone', () => {
    expect(normalizeUrl('/a/b')).toBe('/a/b')
  })

  it('sorts parameters by name, so their order does not split the cache', () => {
    expect(normalizeUrl('/p?b=2&a=1&c')).toBe('/p?a=1&b=2&c')
    expect(normalizeUrl('/p?b=2&a=1')).toBe(normalizeUrl('/p?a=1&b=2'))
  })

  it('keeps the order of repeated parameters (it can mean something)', () => {
    expect(normalizeUrl('/p?a=2&b=0&a=1')).toBe('/p?a=2&a=1&b=0')
    expect(normalizeUrl('/p?a=2&a=1')).not.toBe(normalizeUrl('/p?a=1&a=2'))
  })

  it('drops an empty query and empty parameters', () => {
    expect(normalizeUrl('/p?')).toBe('/p')
    expect(normalizeUrl('/p?&&')).toBe('/p')
    expect(normalizeUrl('/p?&b=1&&a=2&')).toBe('/p?a=2&b=1')
  })

  it('does not decode: different bytes stay different keys', () => {
    expect(normalizeUrl('/p?a=%20')).not.toBe(normalizeUrl('/p?a=+'))
  })
})

describe('keys', () => {
  it('keys the scheme and keeps per-user keys apart', () => {
    expect(routeKey('http', '/a', undefined)).toBe('http:http|/a')
    expect(routeKey('https', '/a', undefined)).not.toBe(routeKey('http', '/a', undefined))
    expect(routeKey('http', '/a', 'u1')).not.toBe(routeKey('http', '/a', 'u2'))
    expect(routeKey('http', '/a', 'u1')).not.toBe(routeKey('http', '/a', undefined))
  })

  it('is injective: no key part can forge another key', () => {
    // A key() that puts decoded input in its key can't reach a per-user entry, whatever the input holds.
    expect(routeKey('http', 'search:x|bob', undefined)).not.toBe(routeKey('http', 'search:x', 'bob'))
    expect(routeKey('http', 'search:x\u0000user:bob', undefined)).not.toBe(routeKey('http', 'search:x', 'bob'))
    expect(routeKey('http', 'a%7Cb', undefined)).not.toBe(routeKey('http', 'a|b', undefined))
    expect(routeKey('http|/x', '/y', undefined)).not.toBe(routeKey('http', '/x|/y', undefined))
    const route = routeKey('http', '/a', undefined)
    expect(variantKey(route, 'g', '=x')).not.toBe(routeKey('http', '/a|v|g|=x', undefined))
    expect(variantKey(route, 'g', '=x')).not.toBe(routeKey('http', '/a', 'v|g|=x'))
  })

  it('builds variant keys from the generation and the values', () => {
    expect(variantKey('http:http|/a', 'g1', 'x')).not.toBe(variantKey('http:http|/a', 'g2', 'x'))
    expect(variantKey('http:http|/a', 'g1', 'x')).not.toBe(variantKey('http:http|/a', 'g1', 'y'))
  })

  it('reads vary values in order, an absent header apart from an empty one', () => {
    expect(varyValues({ host: 'h', 'accept-language': 'fr' }, ['host', 'accept-language'])).toBe('=h\n=fr')
    expect(varyValues({ host: 'h' }, ['host', 'accept-language'])).toBe('=h\n')
    expect(varyValues({ host: 'h', 'accept-language': '' }, ['host', 'accept-language'])).not.toBe(varyValues({ host: 'h' }, ['host', 'accept-language']))
    expect(varyValues({}, ['host', 'accept-language'])).not.toBe(varyValues({ host: 'h' }, ['host', 'accept-language']))
  })
})
