import { describe, expect, it } from 'vitest'
import { defaultCodec } from '@herd/core'
import { BodyCollector } from '../src/body.js'
import { buildCapture, isCaptured, isPass, mergeNotModified, storedHeaders, weakEtag, type CaptureInput } from '../src/capture.js'
import { ageOf, prepare } from '../src/serve.js'

const base = (over: Partial<CaptureInput> = {}): CaptureInput => ({
  status: 200,
  headers: { 'content-type': 'text/plain' },
  final: {},
  body: Buffer.from('hello'),
  requestHeaders: { host: 'example.test', 'accept-encoding': 'gzip' },
  implicitVary: ['host'],
  revalidate: 'stale-ok',
  age: 0,
  addEtag: true,
  generation: 'g',
  base: undefined,
  now: 1_000_000,
  ...over,
})

describe('storedHeaders', () => {
  it('drops hop-by-hop headers, Content-Length, the cache header and what Connection lists', () => {
    const out = storedHeaders(
      {},
      {
        'content-type': 'text/html',
        'transfer-encoding': 'chunked',
        connection: 'keep-alive, x-hop',
        'x-hop': '1',
        'keep-alive': 'timeout=5',
        'content-length': 12,
        'x-cache': 'MISS',
        'x-custom': 7,
        link: ['<a>', '<b>'],
      },
      'x-cache',
    )
    expect(out).toEqual({ 'content-type': 'text/html', 'x-custom': '7', link: ['<a>', '<b>'] })
  })

  it('leaves out headers set before herdCache and not changed after it', () => {
    const out = storedHeaders(
      { 'x-request-id': 'r1', 'x-powered-by': 'Express', vary: 'Origin' },
      { 'x-request-id': 'r1', 'x-powered-by': 'Express', vary: 'Origin, Accept-Encoding', 'content-type': 'text/plain' },
      undefined,
    )
    expect(out).toEqual({ vary: 'Origin, Accept-Encoding', 'content-type': 'text/plain' })
  })
})

describe('buildCapture', () => {
  it('records status, body, freshness, Vary values and a weak ETag', () => {
    const c = buildCapture(base())
    expect(c).toMatchObject({
      kind: 'response',
      status: 200,
      at: 1_000_000,
      age: 0,
      revalidate: 'stale-ok',
      vary: ['host'],
      varyValues: '=example.test',
      generation: 'g',
    })
    expect(c.etag).toBe(weakEtag(Buffer.from('hello')))
    expect(c.headers.etag).toBe(c.etag)
    expect(isCaptured(c)).toBe(true)
    expect(isPass(c)).toBe(false)
  })

  it('keeps the handler ETag, records the age on arrival and drops the Age header', () => {
    const c = buildCapture(base({ headers: { etag: '"v1"', 'last-modified': 'Wed, 01 Jan 2025 00:00:00 GMT', age: '30' }, age: 30_500 }))
    expect(c.etag).toBe('"v1"')
    expect(c.age).toBe(30)
    expect(c.headers.age).toBeUndefined()
  })

  it('adds no ETag to non-2xx responses or when told not to', () => {
    expect(buildCapture(base({ status: 404 })).etag).toBeUndefined()
    expect(buildCapture(base({ addEtag: false })).etag).toBeUndefined()
  })

  it('varies an encoded body on Accept-Encoding even when the compressor did not say so', () => {
    const c = buildCapture(base({ headers: { 'content-encoding': 'gzip' } }))
    expect(c.vary).toEqual(['host', 'accept-encoding'])
    expect(c.varyValues).toBe('=example.test\n=gzip')
  })

  it('varies on the Vary of the response as it left (set by middleware in front of herdCache too)', () => {
    const c = buildCapture(base({ final: { vary: 'Accept-Language' } }))
    expect(c.vary).toEqual(['host', 'accept-language'])
    expect(c.varyValues).toBe('=example.test\n')
  })

  it('adds the response Vary names after the implicit ones', () => {
    const c = buildCapture(base({ headers: { vary: 'Accept-Language, Host' } }))
    expect(c.vary).toEqual(['host', 'accept-language'])
  })

  it('round-trips through herd default codec, Buffer included', () => {
    const c = buildCapture(base({ base: 5, headers: { 'last-modified': 'Wed, 01 Jan 2025 00:00:00 GMT', age: '30' }, age: 30_000 }))
    const back = defaultCodec.decode(defaultCodec.encode(c)) as typeof c
    expect(back).toEqual(c)
    expect(Buffer.isBuffer(back.body)).toBe(true)
  })
})

describe('mergeNotModified (RFC 9111 §4.3.4)', () => {
  it('replaces the stored fields the 304 sends, never the ones the stored body depends on', () => {
    const merged = mergeNotModified(
      { 'content-type': 'text/plain', 'content-encoding': 'gzip', etag: '"a"', 'cache-control': 'max-age=5', 'x-keep': '1' },
      { 'cache-control': 'max-age=60', etag: '"a"', 'content-type': 'text/html', 'content-length': '0', 'content-encoding': 'br', 'x-new': '2' },
    )
    expect(merged).toEqual({
      'content-type': 'text/plain',
      'content-encoding': 'gzip',
      etag: '"a"',
      'cache-control': 'max-age=60',
      'x-keep': '1',
      'x-new': '2',
    })
  })
})

describe('prepare and ageOf', () => {
  it('precomputes the headers, Content-Length and the 304 subset once', () => {
    const c = buildCapture(base({ headers: { 'content-type': 'text/plain', 'cache-control': 'max-age=60', 'x-a': '1' } }))
    const p = prepare(c)
    expect(prepare(c)).toBe(p)
    expect(p.names).toEqual(['content-type', 'cache-control', 'x-a', 'etag', 'content-length'])
    expect(p.values.at(-1)).toBe('5')
    expect(p.notModifiedNames).toEqual(['cache-control', 'etag'])
    expect(p.conditional).toBe(true)
    expect(prepare(buildCapture(base({ status: 204, body: Buffer.alloc(0) }))).names).not.toContain('content-length')
  })

  it('adds the time in cache to the age the handler reported', () => {
    const c = buildCapture(base({ headers: { age: '3' }, age: 3_000 }))
    expect(ageOf(c, c.at + 2_500)).toBe('5')
    expect(ageOf(c, c.at - 1000)).toBe('3')
  })
})

describe('BodyCollector', () => {
  it('keeps a single Buffer without copying and concatenates several', () => {
    const one = Buffer.from('abc')
    const a = new BodyCollector(100)
    a.add(one)
    expect(a.body()).toBe(one)
    const b = new BodyCollector(100)
    b.add('ab')
    b.add(new Uint8Array([99]))
    b.add('ZA==', 'base64')
    b.add(undefined)
    b.add(() => {})
    expect(b.body()!.toString()).toBe('abcd')
  })

  it('gives up past the limit', () => {
    const c = new BodyCollector(3)
    c.add('ab')
    c.add('cd')
    c.add('e')
    expect(c.body()).toBeUndefined()
  })
})
