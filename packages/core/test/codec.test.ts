import { describe, expect, it } from 'vitest'
import { HerdDecodeError, HerdEncodeError, defaultCodec } from '../src/index.js'

const roundTrip = (value: unknown) => defaultCodec.decode(defaultCodec.encode(value))

describe('default codec', () => {
  it.each([
    ['object', { a: 1, b: 'two', c: [true, null], d: { e: 'nested' } }],
    ['array', [1, 'a', null, { x: 1 }]],
    ['string', 'héllo "wörld"\n'],
    ['number', 42.5],
    ['null', null],
    ['boolean', false],
    ['NaN and infinities', [Number.NaN, Infinity, -Infinity]],
    ['Date', new Date('2026-11-23T10:00:00.000Z')],
    [
      'Map',
      new Map<unknown, unknown>([
        ['a', 1],
        [2, { b: new Date(0) }],
      ]),
    ],
    ['Set', new Set([1, 'two', 3n])],
    ['BigInt', 12345678901234567890n],
    ['undefined inside containers', { a: undefined, list: [1, undefined, 3] }],
    ['objects whose keys look like tags', { '~': 'D', '~~': 2, v: 'not a date' }],
  ])('round-trips %s', (_name, value) => {
    expect(roundTrip(value)).toStrictEqual(value)
  })

  it('keeps undefined inside objects and arrays as it was: a present key, not a hole', () => {
    const back = roundTrip({ a: undefined, b: 1, list: [1, undefined, 3], nested: { deep: [undefined] } }) as Record<string, unknown>
    expect(Object.keys(back)).toEqual(['a', 'b', 'list', 'nested'])
    expect(1 in (back.list as unknown[])).toBe(true)
    expect((back.list as unknown[]).length).toBe(3)
    expect(0 in (back.nested as { deep: unknown[] }).deep).toBe(true)
  })

  it('round-trips -0', () => {
    expect(Object.is(roundTrip(-0), -0)).toBe(true)
  })

  it('round-trips Buffer as Buffer and Uint8Array as Uint8Array', () => {
    const buffer = roundTrip(Buffer.from('hello'))
    expect(Buffer.isBuffer(buffer)).toBe(true)
    expect((buffer as Buffer).toString()).toBe('hello')
    const bytes = roundTrip(new Uint8Array([1, 2, 255]))
    expect(bytes).toBeInstanceOf(Uint8Array)
    expect(Buffer.isBuffer(bytes)).toBe(false)
    expect([...(bytes as Uint8Array)]).toEqual([1, 2, 255])
  })

  it('keeps plain JSON on the fast path', () => {
    expect(defaultCodec.encode({ a: 1 })).toBe('0{"a":1}')
    expect(defaultCodec.encode({ at: new Date(0) }).startsWith('1')).toBe(true)
  })

  it('sends a value JSON cannot carry the tagged way, however deep it sits; plain JSON stays plain at any depth', () => {
    const deep = (leaf: unknown, levels: number): unknown => (levels === 0 ? leaf : { x: [deep(leaf, levels - 1)] })
    const holes: unknown[] = [1]
    holes[2] = 3
    for (const odd of [-0, Number.NaN, undefined, 1n, new Date(0), new Map([[1, 2]]), new Set([1]), Buffer.from('x'), { '~~~': 1 }]) {
      const value = deep({ odd }, 3)
      expect(defaultCodec.encode(value)[0]).toBe('1')
      expect(roundTrip(value)).toStrictEqual(value)
    }
    expect(defaultCodec.encode(deep(holes, 3))[0]).toBe('1')
    expect(roundTrip(deep(holes, 3))).toStrictEqual(deep([1, undefined, 3], 3))
    // An object that is not plain (here: another prototype) is cached as JSON would: own keys only.
    const inherited = Object.create({ shared: 1 }) as Record<string, unknown>
    inherited.own = 2
    expect(roundTrip(deep(inherited, 3))).toStrictEqual(deep({ own: 2 }, 3))
    // Plain JSON nested past the walk's depth still encodes plain, through the replacer.
    const nested = deep('leaf', 40)
    expect(defaultCodec.encode(nested)).toBe(`0${JSON.stringify(nested)}`)
    expect(roundTrip(nested)).toStrictEqual(nested)
    const cycle: Record<string, unknown> = { a: { b: 1 } }
    ;(cycle.a as Record<string, unknown>).self = cycle
    expect(() => defaultCodec.encode(cycle)).toThrow(HerdEncodeError)
  })

  it('caches class instances as JSON would', () => {
    class Money {
      constructor(readonly cents: number) {}
      toJSON() {
        return `${this.cents / 100} EUR`
      }
    }
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    expect(roundTrip({ price: new Money(250), at: new Point(1, 2) })).toEqual({ price: '2.5 EUR', at: { x: 1, y: 2 } })
  })

  it.each([
    ['a function', { f: () => 1 }],
    ['a symbol', { s: Symbol('x') }],
    ['a top-level function', () => 1],
    ['a typed array other than Uint8Array', { data: new Float64Array(2) }],
    ['a WeakMap', new WeakMap()],
    ['a Promise', { p: Promise.resolve(1) }],
  ])('rejects %s with a HerdEncodeError (a TypeError)', (_name, value) => {
    expect(() => defaultCodec.encode(value)).toThrow(HerdEncodeError)
    expect(() => defaultCodec.encode(value)).toThrow(TypeError)
  })

  it('rejects circular structures, through objects and through Maps', () => {
    const circular: Record<string, unknown> = { a: 1 }
    circular.self = circular
    expect(() => defaultCodec.encode(circular)).toThrow(HerdEncodeError)
    const map = new Map<string, unknown>()
    map.set('me', map)
    expect(() => defaultCodec.encode(map)).toThrow(/circular/)
  })

  it.each(['', 'x', '0{not json', '9{}', '1{"~":"?"}'])('rejects corrupt input %j with a HerdDecodeError', (data) => {
    expect(() => defaultCodec.decode(data)).toThrow(HerdDecodeError)
  })
})
