import type { Store, StoredEntry } from '@herd/core'
import { beforeEach, describe, expect, it } from 'vitest'
import { type Factory, perTest, sleep, type SuiteOptions } from './harness.js'

export type StoreFactory = Factory<Store>
export type StoreSuiteOptions = SuiteOptions<Store>

/** Long enough to read an entry back on a busy machine, short enough to wait out. */
const SHORT_TTL = 200
/** Past SHORT_TTL with room for a slow timer. */
const AFTER_SHORT_TTL = SHORT_TTL + 250
const LONG_TTL = 60_000

/** Values a codec can produce, and the ones adapters get wrong: escaping, multi-byte text, size. */
const VALUES: ReadonlyArray<readonly [string, string]> = [
  ['JSON', '{"name":"Ada","tags":["a","b"],"n":1.5}'],
  ['unicode', 'héllo wörld – 你好 – 🐘🦬 – \u00e9 vs e\u0301'],
  ['newlines and tabs', 'line 1\nline 2\r\nline\t3\n'],
  ['quotes and backslashes', `'single' "double" \`back\` \\ \\\\ \\" \\n`],
  ['a NUL character', 'before\u0000after'],
  ['the empty string', ''],
  ['~1 MB', `{"rows":"${'wörld 🐘 row\\n'.repeat(70_000)}"}`],
]

/** Keys that a careless adapter escapes, splits, hashes or truncates into one another. */
const KEYS = [
  'plain',
  'ünïcødé 🐘',
  'with spaces',
  ' leading',
  'trailing ',
  'a:b:c',
  ':',
  '{}',
  '{a}b',
  'ab',
  'a{b}',
  '{a}',
  'a*?[]',
  'line\nbreak',
  '"quoted"',
]

function sampleEntry(overrides: Partial<StoredEntry> = {}): StoredEntry {
  const now = Date.now()
  return {
    value: '{"name":"Ada"}',
    fence: 7,
    createdAt: now,
    freshUntil: now + 60_000,
    staleUntil: now + 90_000,
    errorUntil: now + 3_600_000,
    loadMs: 12.5,
    ...overrides,
  }
}

/** Every field of the contract, compared exactly; `negative` absent and `false` mean the same, and so do no `tags` and `[]`. */
function expectEntry(actual: StoredEntry | undefined, expected: StoredEntry): void {
  expect(actual, 'expected an entry, got undefined').toBeDefined()
  const { negative = false, tags = [], ...fields } = actual!
  const { negative: expectedNegative = false, tags: expectedTags = [], ...expectedFields } = expected
  expect([...tags]).toStrictEqual([...expectedTags])
  expect({
    value: fields.value,
    fence: fields.fence,
    createdAt: fields.createdAt,
    freshUntil: fields.freshUntil,
    staleUntil: fields.staleUntil,
    errorUntil: fields.errorUntil,
    loadMs: fields.loadMs,
  }).toStrictEqual(expectedFields)
  expect(negative).toBe(expectedNegative)
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j]!, copy[i]!]
  }
  return copy
}

/**
 * Everything herd relies on from a Store. Call it at the top level of a
 * vitest file; `factory` gives a Store for each test.
 */
export function storeSuite(name: string, factory: StoreFactory, options?: StoreSuiteOptions): void {
  describe(`${name} (Store conformance)`, () => {
    const { key, create } = perTest(factory, options)
    let store: Store
    beforeEach(async () => {
      store = await create()
    })

    describe('get and set', () => {
      it('get of a missing key resolves undefined', async () => {
        expect(await store.get(key('missing'))).toBeUndefined()
      })

      it('set resolves true and get returns every field exactly', async () => {
        const entry = sampleEntry({ fence: 2 ** 40 + 3, loadMs: 0.1 + 0.2, createdAt: Date.now() - 1 })
        expect(await store.set(key('k'), entry, LONG_TTL)).toBe(true)
        expectEntry(await store.get(key('k')), entry)
      })

      it('keeps a negative entry as negative, with its empty value', async () => {
        const entry = sampleEntry({ value: '', negative: true, loadMs: 3 })
        expect(await store.set(key('k'), entry, LONG_TTL)).toBe(true)
        expectEntry(await store.get(key('k')), entry)
      })

      it('keeps the tags as given, in order, whatever characters they hold', async () => {
        const entry = sampleEntry({ tags: ['products', 'product:42', 'with, comma', 'quote " and {braces}', 'ünïcødé 🐘', ''.padEnd(300, 't')] })
        expect(await store.set(key('k'), entry, LONG_TTL)).toBe(true)
        expectEntry(await store.get(key('k')), entry)
        const negative = sampleEntry({ value: '', negative: true, tags: ['t'] })
        expect(await store.set(key('n'), negative, LONG_TTL)).toBe(true)
        expectEntry(await store.get(key('n')), negative)
      })

      it('an entry written without `negative` reads back as not negative', async () => {
        await store.set(key('k'), sampleEntry(), LONG_TTL)
        expect((await store.get(key('k')))?.negative ?? false).toBe(false)
      })

      it.each(VALUES)('round-trips a value with %s', async (_label, value) => {
        const entry = sampleEntry({ value })
        expect(await store.set(key('v'), entry, LONG_TTL)).toBe(true)
        const got = await store.get(key('v'))
        // Length first: a diff of a 1 MB string is unreadable.
        expect(got?.value.length).toBe(value.length)
        expectEntry(got, entry)
      })

      it('keys with unicode, spaces, colons, braces (Redis hash tags) and glob characters are distinct', async () => {
        const entries = KEYS.map((k, i) => sampleEntry({ value: `value of ${k}`, fence: i + 1 }))
        await Promise.all(KEYS.map((k, i) => store.set(key(k), entries[i]!, LONG_TTL)))
        for (const [i, k] of KEYS.entries()) expectEntry(await store.get(key(k)), entries[i]!)
      })

      it('hands out copies: changing the entry given to set or got from get changes nothing stored', async () => {
        const entry = sampleEntry()
        const expected = { ...entry }
        await store.set(key('k'), entry, LONG_TTL)
        entry.value = 'changed by the writer'
        entry.fence = 999
        const first = await store.get(key('k'))
        first!.freshUntil = 0
        first!.value = 'changed by a reader'
        expectEntry(await store.get(key('k')), expected)
      })
    })

    describe('ttl', () => {
      it('an entry is gone after its ttl', async () => {
        await store.set(key('k'), sampleEntry(), SHORT_TTL)
        expect(await store.get(key('k'))).toBeDefined()
        await sleep(AFTER_SHORT_TTL)
        expect(await store.get(key('k'))).toBeUndefined()
      })

      it('a ttl of 0 keeps nothing, not even the entry it replaced', async () => {
        await store.set(key('k'), sampleEntry({ fence: 1 }), LONG_TTL)
        expect(await store.set(key('k'), sampleEntry({ fence: 2 }), 0)).toBe(true)
        expect(await store.get(key('k'))).toBeUndefined()
      })
    })

    describe('fences', () => {
      it('a higher fence replaces the entry', async () => {
        await store.set(key('k'), sampleEntry({ fence: 5, value: 'old' }), LONG_TTL)
        const newer = sampleEntry({ fence: 6, value: 'new', negative: true })
        expect(await store.set(key('k'), newer, LONG_TTL)).toBe(true)
        expectEntry(await store.get(key('k')), newer)
      })

      it('an equal fence replaces the entry (the same lease writing again)', async () => {
        await store.set(key('k'), sampleEntry({ fence: 5, value: 'first' }), LONG_TTL)
        const again = sampleEntry({ fence: 5, value: 'second' })
        expect(await store.set(key('k'), again, LONG_TTL)).toBe(true)
        expectEntry(await store.get(key('k')), again)
      })

      it('a lower fence is refused: set resolves false and the entry, ttl included, is unchanged', async () => {
        const held = sampleEntry({ fence: 5, value: 'held' })
        await store.set(key('k'), held, LONG_TTL)
        expect(await store.set(key('k'), sampleEntry({ fence: 4, value: 'late' }), SHORT_TTL)).toBe(false)
        expectEntry(await store.get(key('k')), held)
        // A refused write must not have shortened the held entry's life either.
        await sleep(AFTER_SHORT_TTL)
        expectEntry(await store.get(key('k')), held)
      })

      it('fences up to Number.MAX_SAFE_INTEGER are kept and compared exactly', async () => {
        const top = Number.MAX_SAFE_INTEGER
        await store.set(key('k'), sampleEntry({ fence: top - 1 }), LONG_TTL)
        expect(await store.set(key('k'), sampleEntry({ fence: top - 2, value: 'older' }), LONG_TTL)).toBe(false)
        const newest = sampleEntry({ fence: top, value: 'newest' })
        expect(await store.set(key('k'), newest, LONG_TTL)).toBe(true)
        expectEntry(await store.get(key('k')), newest)
      })

      it('concurrent sets with shuffled fences leave the highest', async () => {
        const fences = Array.from({ length: 40 }, (_, i) => i + 1)
        const entries = new Map(fences.map((fence) => [fence, sampleEntry({ fence, value: `written with fence ${fence}` })]))
        // The highest never goes last: a Store that checks, then writes (not atomically) lets the last write win, and
        // must not pass by chance.
        const order = shuffled(fences)
        if (order.at(-1) === 40) order.unshift(order.pop()!)
        const results = await Promise.all(order.map((fence) => store.set(key('k'), entries.get(fence)!, LONG_TTL)))
        expect(results[order.indexOf(40)]).toBe(true)
        expectEntry(await store.get(key('k')), entries.get(40)!)
      })
    })

    describe('expire', () => {
      it('lowers freshUntil to `at` and keeps every other field', async () => {
        const entry = sampleEntry()
        await store.set(key('k'), entry, LONG_TTL)
        const at = entry.createdAt + 5
        expect(await store.expire(key('k'), at)).toBe(true)
        expectEntry(await store.get(key('k')), { ...entry, freshUntil: at })
      })

      it('never raises freshUntil', async () => {
        const entry = sampleEntry()
        await store.set(key('k'), entry, LONG_TTL)
        expect(await store.expire(key('k'), entry.freshUntil + 60_000)).toBe(true)
        expectEntry(await store.get(key('k')), entry)
      })

      it('keeps the entry’s ttl: the entry still goes when it was due to', async () => {
        await store.set(key('k'), sampleEntry(), SHORT_TTL)
        expect(await store.expire(key('k'), Date.now())).toBe(true)
        expect(await store.get(key('k'))).toBeDefined()
        await sleep(AFTER_SHORT_TTL)
        expect(await store.get(key('k'))).toBeUndefined()
      })

      it('keeps the fence: a lower fence is still refused afterwards', async () => {
        await store.set(key('k'), sampleEntry({ fence: 10 }), LONG_TTL)
        await store.expire(key('k'), Date.now())
        expect(await store.set(key('k'), sampleEntry({ fence: 9 }), LONG_TTL)).toBe(false)
        expect((await store.get(key('k')))?.fence).toBe(10)
      })

      it('with a fence, raises the entry’s fence to it (never lowers it): an older writer is refused afterwards', async () => {
        const entry = sampleEntry({ fence: 10, tags: ['t'] })
        await store.set(key('k'), entry, LONG_TTL)
        expect(await store.expire(key('k'), entry.createdAt + 5, 20)).toBe(true)
        expectEntry(await store.get(key('k')), { ...entry, fence: 20, freshUntil: entry.createdAt + 5 })
        expect(await store.set(key('k'), sampleEntry({ fence: 15 }), LONG_TTL)).toBe(false)
        expect(await store.expire(key('k'), entry.createdAt + 5, 12)).toBe(true)
        expect((await store.get(key('k')))?.fence).toBe(20)
        expect(await store.set(key('k'), sampleEntry({ fence: 20, value: 'same lease' }), LONG_TTL)).toBe(true)
      })

      it('of a missing key resolves false and creates nothing', async () => {
        expect(await store.expire(key('missing'), Date.now(), 5)).toBe(false)
        expect(await store.expire(key('missing'), Date.now())).toBe(false)
        expect(await store.get(key('missing'))).toBeUndefined()
      })
    })

    describe('delete', () => {
      it('removes the entry whatever its fence, so any fence can write again', async () => {
        await store.set(key('k'), sampleEntry({ fence: 100 }), LONG_TTL)
        await store.delete(key('k'))
        expect(await store.get(key('k'))).toBeUndefined()
        const low = sampleEntry({ fence: 1 })
        expect(await store.set(key('k'), low, LONG_TTL)).toBe(true)
        expectEntry(await store.get(key('k')), low)
      })

      it('of a missing key resolves', async () => {
        await expect(store.delete(key('missing'))).resolves.toBeUndefined()
      })

      it('leaves other keys alone', async () => {
        const other = sampleEntry({ value: 'other' })
        await store.set(key('a'), sampleEntry(), LONG_TTL)
        await store.set(key('b'), other, LONG_TTL)
        await store.delete(key('a'))
        expectEntry(await store.get(key('b')), other)
      })
    })

    describe('getMany (optional)', () => {
      it('returns entries in the order asked, undefined for missing keys', async (ctx) => {
        if (store.getMany === undefined) return ctx.skip('this Store has no getMany')
        const a = sampleEntry({ value: 'a', fence: 1 })
        const b = sampleEntry({ value: 'b', fence: 2, negative: true })
        await store.set(key('a'), a, LONG_TTL)
        await store.set(key('{b}'), b, LONG_TTL)
        const got = await store.getMany([key('{b}'), key('missing'), key('a'), key('{b}')])
        expect(got).toHaveLength(4)
        expectEntry(got[0], b)
        expect(got[1]).toBeUndefined()
        expectEntry(got[2], a)
        expectEntry(got[3], b)
      })

      it('of no keys resolves []', async (ctx) => {
        if (store.getMany === undefined) return ctx.skip('this Store has no getMany')
        expect(await store.getMany([])).toEqual([])
      })
    })
  })
}
