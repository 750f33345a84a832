import { PassThrough, Readable } from 'node:stream'
import { gunzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import Koa3, { type Context, type Next } from 'koa'
import Koa2 from 'koa2'
import compress from 'koa-compress'
import { createHerd, HerdArgumentError, type Herd } from '@herd/core'
import { herdCache, isBackgroundRefresh, type HerdCacheOptions } from '../src/index.js'
import { barrier, closeAll, counter, eventually, gate, get, listen, sleep, times, track } from '@herd/testing/http-harness'

afterEach(closeAll)

type Handler = (ctx: Context) => unknown

describe.each([
  ['Koa 3', Koa3],
  ['Koa 2', Koa2 as unknown as typeof Koa3],
])('%s', (_name, Koa) => {
  interface Setup {
    herd: Herd
    /** An app: [error catcher], [before...], herdCache(options), [after...], handler. */
    serve(
      handler: Handler,
      options?: Partial<HerdCacheOptions>,
      extra?: { before?: Koa3.Middleware[]; after?: Koa3.Middleware[]; seen?: string[] },
    ): Promise<string>
    middleware: ReturnType<typeof herdCache> | undefined
  }

  function setup(): Setup {
    const herd = track(createHerd())
    const s: Setup = {
      herd,
      middleware: undefined,
      async serve(handler, options = {}, extra = {}) {
        const app = new Koa()
        app.silent = true
        if (extra.seen) {
          const seen = extra.seen
          app.use(async (ctx: Context, next: Next) => {
            try {
              await next()
            } catch (error) {
              seen.push((error as Error).message)
              ctx.status = 500
              ctx.body = `handled: ${(error as Error).message}`
            }
          })
        }
        for (const m of extra.before ?? []) app.use(m)
        s.middleware = herdCache({ ttl: '1m', herd, ...options })
        app.use(s.middleware)
        for (const m of extra.after ?? []) app.use(m)
        app.use(async (ctx: Context) => {
          await handler(ctx)
        })
        return listen(app.callback())
      },
    }
    return s
  }

  describe('coalescing', () => {
    it('runs downstream once for concurrent requests and serves everyone its response', async () => {
      let calls = 0
      const url = await setup().serve(async (ctx) => {
        calls++
        await sleep(100)
        ctx.set('x-handler', 'yes')
        ctx.body = { calls }
      })
      const responses = await Promise.all(times(25, () => get(`${url}/slow`)))
      expect(calls).toBe(1)
      for (const r of responses) {
        expect(r.status).toBe(200)
        expect(r.text).toBe('{"calls":1}')
        expect(r.headers['x-handler']).toBe('yes')
        expect(r.headers['content-type']).toMatch(/application\/json/)
      }
      expect(counter(responses.map((r) => r.headers['x-cache']))).toEqual({ MISS: 1, HIT: 24 })
      expect((await get(`${url}/slow`)).headers['x-cache']).toBe('HIT')
      expect(calls).toBe(1)
    })

    it('lets a second herdCache on the same request step aside', async () => {
      const herd = track(createHerd())
      let calls = 0
      const url = await setup().serve(
        (ctx) => {
          calls++
          ctx.body = 'once'
        },
        {},
        { after: [herdCache({ ttl: '5s', herd })] },
      )
      const [a, b] = await Promise.all([get(`${url}/n`), get(`${url}/n`)])
      expect([a.text, b.text]).toEqual(['once', 'once'])
      expect(calls).toBe(1)
    })
  })

  describe('bodies', () => {
    it('captures string, Buffer, object and stream bodies, and the default 404', async () => {
      const calls: Record<string, number> = {}
      const url = await setup().serve(async (ctx) => {
        calls[ctx.path] = (calls[ctx.path] ?? 0) + 1
        if (ctx.path === '/string') ctx.body = 'héllo'
        else if (ctx.path === '/buffer') ctx.body = Buffer.from([0, 1, 2, 255])
        else if (ctx.path === '/object') ctx.body = { ok: true, list: [1, 2] }
        else if (ctx.path === '/stream') {
          ctx.type = 'text/plain'
          ctx.body = Readable.from(['x'.repeat(10_000), 'y'.repeat(10_000), 'z'])
        } else if (ctx.path === '/html') {
          ctx.type = 'html'
          ctx.body = '<p>hi</p>'
        }
      })
      const expected: Record<string, Buffer> = {
        '/string': Buffer.from('héllo'),
        '/buffer': Buffer.from([0, 1, 2, 255]),
        '/object': Buffer.from('{"ok":true,"list":[1,2]}'),
        '/stream': Buffer.from('x'.repeat(10_000) + 'y'.repeat(10_000) + 'z'),
        '/html': Buffer.from('<p>hi</p>'),
        '/missing': Buffer.from('Not Found'),
      }
      for (const [path, body] of Object.entries(expected)) {
        const first = await get(url + path)
        const second = await get(url + path)
        expect(first.body.equals(body), path).toBe(true)
        expect(second.body.equals(body), path).toBe(true)
        expect(second.status, path).toBe(first.status)
        expect(second.headers['x-cache'], path).toBe('HIT')
        expect(second.headers['content-type'], path).toBe(first.headers['content-type'])
        expect(second.headers['content-length'], path).toBe(String(body.length))
        expect(calls[path], path).toBe(1)
      }
      expect((await get(`${url}/missing`)).status).toBe(404)
    })
  })

  describe('never shares a private response', () => {
    const echoUser = (calls: { n: number }) => async (ctx: Context) => {
      calls.n++
      await sleep(30)
      ctx.body = `hello ${ctx.get('authorization') || ctx.get('cookie') || 'anonymous'}`
    }

    it("never serves user A's Authorization or Cookie response to user B", async () => {
      const calls = { n: 0 }
      const url = await setup().serve(echoUser(calls))
      const who: Array<Record<string, string>> = [
        { authorization: 'Bearer A' },
        { authorization: 'Bearer B' },
        { cookie: 'sid=A' },
        { cookie: 'sid=B' },
        {},
      ]
      const names = ['hello Bearer A', 'hello Bearer B', 'hello sid=A', 'hello sid=B', 'hello anonymous']
      const mixed = await Promise.all(times(25, (i) => get(`${url}/me`, { headers: who[i % 5]! })))
      mixed.forEach((r, i) => expect(r.text).toBe(names[i % 5]))
      expect(counter(mixed.filter((_r, i) => i % 5 !== 4).map((r) => r.headers['x-cache']))).toEqual({ BYPASS: 20 })
      expect(counter(mixed.filter((_r, i) => i % 5 === 4).map((r) => r.headers['x-cache']))).toEqual({ MISS: 1, HIT: 4 })
      expect(calls.n).toBe(20 + 1)
    })

    it('caches per user when the key function says so', async () => {
      const calls = { n: 0 }
      const url = await setup().serve(
        async (ctx) => {
          calls.n++
          await sleep(30)
          ctx.set('cache-control', 'private, max-age=60')
          ctx.body = `hello ${ctx.get('authorization') || 'anonymous'}`
        },
        { key: (ctx, url) => (ctx.get('authorization') ? { key: url, user: ctx.get('authorization') } : url) },
      )
      const first = await Promise.all(times(20, (i) => get(`${url}/me`, { headers: { authorization: i % 2 ? 'A' : 'B' } })))
      first.forEach((r, i) => expect(r.text).toBe(i % 2 ? 'hello A' : 'hello B'))
      expect(calls.n).toBe(2)
      const again = await get(`${url}/me`, { headers: { authorization: 'B' } })
      expect(again.text).toBe('hello B')
      expect(again.headers['x-cache']).toBe('HIT')
      expect((await get(`${url}/me`)).headers['x-cache']).toBe('BYPASS')
    })

    it('never shares Set-Cookie: waiters run their own downstream, side by side once it is known', async () => {
      let calls = 0
      let inFlight = 0
      let maxInFlight = 0
      let hold: (() => Promise<void>) | undefined
      const url = await setup().serve(async (ctx) => {
        const n = ++calls
        maxInFlight = Math.max(maxInFlight, ++inFlight)
        await (hold ? hold() : sleep(150))
        inFlight--
        ctx.cookies.set('sid', `s${n}`)
        ctx.body = `session s${n}`
      })
      const responses = await Promise.all(times(8, () => get(`${url}/login`)))
      expect(new Set(responses.map((r) => r.text)).size).toBe(8)
      for (const r of responses) expect(String(r.headers['set-cookie'])).toContain(r.text.replace('session ', 'sid='))
      maxInFlight = 0
      hold = barrier(4)
      const next = await Promise.all(times(4, () => get(`${url}/login`)))
      expect(new Set(next.map((r) => r.text)).size).toBe(4)
      expect(maxInFlight).toBe(4)
    })

    it.each([['private'], ['no-store'], ['no-cache']])('does not share Cache-Control: %s', async (cc) => {
      let calls = 0
      const url = await setup().serve((ctx) => {
        calls++
        ctx.set('cache-control', cc)
        ctx.body = `call ${calls}`
      })
      const bodies = await Promise.all(times(5, () => get(`${url}/p`)))
      expect(new Set(bodies.map((r) => r.text)).size).toBe(5)
      expect(calls).toBe(5)
    })
  })

  describe('statuses and errors', () => {
    it('stores cacheable-by-default statuses and passes the others', async () => {
      const calls: Record<string, number> = {}
      const url = await setup().serve((ctx) => {
        const code = ctx.path.slice(1)
        calls[code] = (calls[code] ?? 0) + 1
        ctx.status = Number(code)
        ctx.body = `status ${code}`
      })
      for (const code of ['200', '404', '301', '201', '400', '403']) {
        await get(`${url}/${code}`)
        expect((await get(`${url}/${code}`)).status).toBe(Number(code))
      }
      expect(calls).toEqual({ 200: 1, 404: 1, 301: 1, 201: 2, 400: 2, 403: 2 })
    })

    it('does not cache a thrown error (ctx.throw(404) included); it reaches the error handling', async () => {
      const seen: string[] = []
      let fail = true
      let calls = 0
      const url = await setup().serve(
        async (ctx) => {
          calls++
          await sleep(30)
          if (ctx.path === '/gone') ctx.throw(404, 'no such thing')
          if (fail) throw new Error('boom')
          ctx.body = 'fine'
        },
        {},
        { seen },
      )
      const bad = await Promise.all(times(4, () => get(`${url}/e`)))
      for (const r of bad) expect(r.text).toBe('handled: boom')
      expect(seen).toEqual(['boom', 'boom', 'boom', 'boom'])
      fail = false
      expect((await get(`${url}/e`)).text).toBe('fine')
      expect((await get(`${url}/e`)).headers['x-cache']).toBe('HIT')
      await get(`${url}/gone`)
      await get(`${url}/gone`)
      expect(seen.filter((m) => m === 'no such thing').length).toBe(2)
      expect(calls).toBe(4 + 1 + 2)
    })

    it("reaches Koa's own error handling when nothing catches", async () => {
      const errors: string[] = []
      const herd = track(createHerd())
      const app = new Koa()
      app.on('error', (error: Error) => errors.push(error.message))
      app.use(herdCache({ ttl: '1m', herd }))
      app.use(() => {
        throw new Error('uncaught')
      })
      const url = await listen(app.callback())
      const r = await get(`${url}/x`)
      expect(r.status).toBe(500)
      expect(errors).toEqual(['uncaught'])
    })

    it('serves the stale response inside staleIfError when the refresh fails', async () => {
      const seen: string[] = []
      let fail = false
      const url = await setup().serve(
        (ctx) => {
          if (fail) throw new Error('db down')
          ctx.body = 'good'
        },
        { ttl: '200ms', staleIfError: '1m' },
        { seen },
      )
      expect((await get(`${url}/sie`)).text).toBe('good')
      fail = true
      await sleep(300)
      const stale = await get(`${url}/sie`)
      expect(stale.status).toBe(200)
      expect(stale.text).toBe('good')
      expect(stale.headers['x-cache']).toBe('STALE')
      expect(seen).toContain('db down')
    })

    it('throws HerdArgumentError at creation for bad options', () => {
      expect(() => herdCache('soon')).toThrow(HerdArgumentError)
      expect(() => herdCache({ ttl: '1s', statuses: [304] })).toThrow(HerdArgumentError)
    })
  })

  describe('Vary, conditional requests and HEAD', () => {
    it('keys on Vary and serves each client its variant', async () => {
      let calls = 0
      const url = await setup().serve(async (ctx) => {
        calls++
        await sleep(30)
        ctx.vary('Accept-Language')
        ctx.body = ctx.get('accept-language') === 'fr' ? 'bonjour' : 'hello'
      })
      const mixed = await Promise.all(times(20, (i) => get(`${url}/greet`, { headers: { 'accept-language': i % 2 ? 'fr' : 'en' } })))
      mixed.forEach((r, i) => expect(r.text).toBe(i % 2 ? 'bonjour' : 'hello'))
      expect(calls).toBe(2)
    })

    it('answers 304 from the cache, and HEAD from the GET entry', async () => {
      const methods: string[] = []
      const url = await setup().serve((ctx) => {
        methods.push(ctx.method)
        ctx.set('last-modified', 'Wed, 01 Jan 2025 00:00:00 GMT')
        ctx.body = 'document'
      })
      const head = await get(`${url}/doc`, { method: 'HEAD' })
      expect(head.status).toBe(200)
      expect(head.body.length).toBe(0)
      expect(head.headers['content-length']).toBe('8')
      const full = await get(`${url}/doc`)
      expect(full.text).toBe('document')
      expect(full.headers['x-cache']).toBe('HIT')
      const etag = String(full.headers.etag)
      const nm = await get(`${url}/doc`, { headers: { 'if-none-match': etag } })
      expect(nm.status).toBe(304)
      expect(nm.body.length).toBe(0)
      expect(nm.headers.etag).toBe(etag)
      expect((await get(`${url}/doc`, { headers: { 'if-modified-since': 'Thu, 02 Jan 2025 00:00:00 GMT' } })).status).toBe(304)
      expect((await get(`${url}/doc`, { headers: { 'if-modified-since': 'Tue, 31 Dec 2024 00:00:00 GMT' } })).status).toBe(200)
      expect(methods).toEqual(['GET'])
    })
  })

  describe('compression', () => {
    const text = 'lorem ipsum dolor sit amet '.repeat(200)
    for (const order of ['koa-compress before herdCache', 'koa-compress after herdCache'] as const) {
      it(`${order}: every client decodes the right body, and no gzip body reaches a client that did not ask for it`, async () => {
        let calls = 0
        const c = compress({ threshold: 0, br: false } as never)
        const url = await setup().serve(
          async (ctx) => {
            calls++
            await sleep(20)
            ctx.type = 'text/plain'
            ctx.body = text
          },
          {},
          order === 'koa-compress before herdCache' ? { before: [c] } : { after: [c] },
        )
        const check = (r: Awaited<ReturnType<typeof get>>, gzip: boolean) => {
          expect(r.status).toBe(200)
          if (gzip) {
            expect(r.headers['content-encoding']).toBe('gzip')
            expect(gunzipSync(r.body).toString()).toBe(text)
          } else {
            expect(r.headers['content-encoding']).toBeUndefined()
            expect(r.text).toBe(text)
          }
        }
        check(await get(`${url}/c`, { headers: { 'accept-encoding': 'gzip' } }), true)
        check(await get(`${url}/c`, { headers: { 'accept-encoding': 'identity' } }), false)
        const mixed = await Promise.all(times(20, (i) => get(`${url}/c`, { headers: { 'accept-encoding': i % 2 ? 'gzip' : 'identity' } })))
        mixed.forEach((r, i) => check(r, i % 2 === 1))
        expect(calls).toBe(order === 'koa-compress before herdCache' ? 1 : 2)
      })
    }
  })

  describe('stale-while-revalidate, limits, disconnects, invalidation', () => {
    it('serves the stale response at once, then the refreshed one, refreshing in a detached run', async () => {
      let version = 0
      const background: boolean[] = []
      const refresh = gate()
      const url = await setup().serve(
        async (ctx) => {
          version++
          background.push(isBackgroundRefresh(ctx.req))
          if (version > 1) await refresh.wait()
          ctx.body = `v${version}`
        },
        { ttl: '500ms', staleWhileRevalidate: '1m' },
      )
      expect((await get(`${url}/swr`)).text).toBe('v1')
      await sleep(600)
      const stale = await Promise.all(times(10, () => get(`${url}/swr`)))
      for (const r of stale) {
        expect(r.text).toBe('v1')
        expect(r.headers['x-cache']).toBe('STALE')
      }
      refresh.open()
      await eventually(async () => ((await get(`${url}/swr`)).text === 'v2' ? true : undefined))
      expect(version).toBe(2)
      expect(background).toEqual([false, true])
    })

    it('serves a response over maxBodySize in full but does not store it', async () => {
      let calls = 0
      const big = Buffer.alloc(50_000, 'b')
      const url = await setup().serve(
        (ctx) => {
          calls++
          ctx.body = ctx.path === '/stream' ? Readable.from([big.subarray(0, 25_000), big.subarray(25_000)]) : big
        },
        { maxBodySize: '10kb' },
      )
      for (const path of ['/buffer', '/stream']) {
        expect((await get(url + path)).body.equals(big)).toBe(true)
        expect((await get(url + path)).body.equals(big)).toBe(true)
      }
      expect(calls).toBe(4)
    })

    it('does not store a stream whose client left mid-way; its waiters get a full response', async () => {
      let calls = 0
      const url = await setup().serve((ctx) => {
        calls++
        ctx.type = 'text/plain'
        const body = new PassThrough()
        ctx.body = body
        body.write('part1-')
        if (calls > 1) setTimeout(() => body.end('part2'), 20)
      })
      const { request } = await import('undici')
      const controller = new AbortController()
      const leaving = await request(`${url}/drip`, { signal: controller.signal })
      const waiter = get(`${url}/drip`)
      await sleep(50)
      leaving.body.once('data', () => controller.abort())
      await leaving.body.text().catch(() => undefined)
      expect((await waiter).text).toBe('part1-part2')
      const next = await get(`${url}/drip`)
      expect(next.text).toBe('part1-part2')
      expect(next.headers['x-cache']).toBe('HIT')
      expect(calls).toBe(2)
    })

    it('stores a must-revalidate response without stale windows: after its ttl one run revalidates it, and a failed run never brings it back', async () => {
      let version = 0
      let status = 200
      const url = await setup().serve(
        async (ctx) => {
          version++
          await sleep(50)
          ctx.set('cache-control', 'max-age=60, must-revalidate')
          ctx.status = status
          ctx.body = `v${version}`
        },
        // beta 0: no XFetch early refresh, so the runs counted are the ones the ttl calls for.
        { ttl: '300ms', staleWhileRevalidate: '1h', staleIfError: '1h', herd: track(createHerd({ beta: 0 })) },
      )
      expect((await get(`${url}/revalidate`)).headers['x-cache']).toBe('MISS')
      const hit = await get(`${url}/revalidate`)
      expect([hit.text, hit.headers['x-cache']]).toEqual(['v1', 'HIT'])
      await sleep(400)
      const revalidated = await Promise.all(times(5, () => get(`${url}/revalidate`)))
      expect(revalidated.map((r) => r.text)).toEqual(Array(5).fill('v2'))
      expect(counter(revalidated.map((r) => r.headers['x-cache']))).toEqual({ MISS: 1, HIT: 4 })
      expect(version).toBe(2)
      status = 503
      await sleep(400)
      const failed = await get(`${url}/revalidate`)
      expect([failed.status, failed.text]).toEqual([503, 'v3'])
    })

    it('does not serve a hit-for-pass marker past passTtl, even with stale windows', async () => {
      let calls = 0
      let cookie = true
      const url = await setup().serve(
        async (ctx) => {
          calls++
          await sleep(50)
          if (cookie) ctx.cookies.set('sid', String(calls))
          ctx.body = `v${calls}`
        },
        { passTtl: '300ms', staleWhileRevalidate: '1h', staleIfError: '1h', herd: track(createHerd({ beta: 0 })) },
      )
      expect((await get(`${url}/pass`)).headers['x-cache']).toBe('BYPASS')
      expect((await get(`${url}/pass`)).headers['x-cache']).toBe('BYPASS')
      cookie = false
      await sleep(400)
      const shared = await Promise.all(times(5, () => get(`${url}/pass`)))
      expect(shared.map((r) => r.text)).toEqual(Array(5).fill('v3'))
      expect(counter(shared.map((r) => r.headers['x-cache']))).toEqual({ MISS: 1, HIT: 4 })
      expect(calls).toBe(3)
    })

    it('delete and expire invalidate a URL', async () => {
      let version = 0
      const s = setup()
      const url = await s.serve(
        (ctx) => {
          version++
          ctx.body = `v${version}`
        },
        { staleWhileRevalidate: '1m' },
      )
      expect((await get(`${url}/i?x=1`)).text).toBe('v1')
      await s.middleware!.delete('/i?x=1')
      expect((await get(`${url}/i?x=1`)).text).toBe('v2')
      await s.middleware!.expire('/i?x=1')
      const stale = await get(`${url}/i?x=1`)
      expect(stale.text).toBe('v2')
      expect(stale.headers['x-cache']).toBe('STALE')
      await eventually(async () => ((await get(`${url}/i?x=1`)).text === 'v3' ? true : undefined))
    })
  })
})
