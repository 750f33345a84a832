import CachePolicy from 'http-cache-semantics'
import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../src/options.js'
import { responseVerdict } from '../src/rules.js'

/*
 * Why herd keeps its own RFC 9111 freshness rules instead of
 * http-cache-semantics (which it evaluated, and which is used at scale):
 * the library's Cache-Control parser splits on every comma and lets the last
 * duplicate win, so it reads responses RFC 9111 calls stale as fresh for an
 * hour. For a shared cache in front of many users, the safe reading matters.
 * herd does use `fresh` (conditional requests) and `range-parser` (Range),
 * the modules Express itself uses, where their rules are the RFC's.
 */
const now = Date.now()
const options = resolveOptions({ ttl: '1h', etag: false })
const request = { url: '/', method: 'GET', headers: { host: 'example.test' } }

function library(headers: Record<string, string>): number {
  return new CachePolicy(request, { status: 200, headers }, { shared: true }).timeToLive()
}

function herd(headers: Record<string, string>): number {
  const v = responseVerdict({ status: 200, headers, options, perUser: false, now })
  return v.kind === 'store' && v.revalidate !== 'always' ? v.ttl : 0
}

describe('http-cache-semantics against RFC 9111, where herd differs', () => {
  it('conflicting max-age duplicates: the RFC says use the first or consider it stale (§4.2.1); the library uses the last', () => {
    const headers = { 'cache-control': 'max-age=0, max-age=3600' }
    expect(library(headers)).toBeGreaterThan(3_000_000) // about an hour
    expect(herd(headers)).toBe(0)
  })

  it('an invalid delta-seconds means stale (§1.2.2); the library parseInt()s it into an hour', () => {
    const headers = { 'cache-control': 'max-age=3600abc' }
    expect(library(headers)).toBeGreaterThan(3_000_000) // about an hour
    expect(herd(headers)).toBe(0)
  })

  it('a quoted-string may hold commas (RFC 9110 §5.6.4); the library reads a directive out of it', () => {
    const headers = { 'cache-control': 'max-age=0, community="x, s-maxage=3600"' }
    expect(library(headers)).toBeGreaterThan(0)
    expect(herd(headers)).toBe(0)
  })
})
