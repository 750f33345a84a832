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
  it('prefixes route keys and keeps per-user keys apart', () => {
    expect(routeKey('/a', undefined)).toBe('http:/a')
    expect(routeKey('/a', 'u1')).not.toBe(routeKey('/a', 'u2'))
    expect(routeKey('/a', 'u1')).not.toBe(routeKey('/a', undefined))
  })

  it('builds variant keys from the generation and the values', () => {
    expect(variantKey('http:/a', 'g1', 'x')).not.toBe(variantKey('http:/a', 'g2', 'x'))
    expect(variantKey('http:/a', 'g1', 'x')).not.toBe(variantKey('http:/a', 'g1', 'y'))
  })

  it('reads vary values, absent headers as empty, in order', () => {
    expect(varyValues({ host: 'h', 'accept-language': 'fr' }, ['host', 'accept-language'])).toBe('h\u0001fr')
    expect(varyValues({ host: 'h' }, ['host', 'accept-language'])).toBe('h\u0001')
    expect(varyValues({}, ['host', 'accept-language'])).not.toBe(varyValues({ host: 'h' }, ['host', 'accept-language']))
  })
})
