import { PassThrough, Readable } from 'node:stream'
import { gunzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import compression from 'compression'
import express5 from 'express'
import express4 from 'express4'
import { createHerd, HerdArgumentError, type Herd } from '@herd/core'
import { herdCache, isBackgroundRefresh, type HerdCacheOptions } from '../src/index.js'
import { barrier, closeAll, counter, eventually, gate, get, listen, sleep, times, track } from '@herd/testing/http-harness'

type Express = typeof express5
type App = ReturnType<Express>
type Req = Parameters<Parameters<App['get']>[1]>[0]
type Res = Parameters<Parameters<App['get']>[1]>[1]
type Next = Parameters<Parameters<App['use']>[0] & ((req: Req, res: Res, next: (e?: unknown) => void) => void)>[2]

afterEach(closeAll)

describe.each([
  ['Express 5', express5],
  ['Express 4', express4 as unknown as Express],
])('%s', (_name, express) => {
  function setup(): { app: App; herd: Herd; cache: (o?: Partial<HerdCacheOptions>) => ReturnType<typeof herdCache> } {
    const app = express()
    const herd = track(createHerd())
    return { app, herd, cache: (o = {}) => herdCache({ ttl: '1m', herd, ...o }) }
  }

  function errorHandler(app: App, seen: string[]): void {
    app.use((err: Error, _req: Req, res: Res, _next: Next) => {
      seen.push(err.message)
      res.status(500).send(`handled: ${err.message}`)
    })
  }

  describe('coalescing', () => {
    it('runs the handler once for concurrent requests and serves everyone its response', async () => {
      const { app, cache } = setup()
      let calls = 0
      app.get('/slow', cache(), async (_req, res) => {
        calls++
        await sleep(100)
        res.set('x-handler', 'yes').json({ calls })
      })
      const url = await listen(app)
      const responses = await Promise.all(times(25, () => get(`${url}/slow`)))
      expect(calls).toBe(1)
      for (const r of responses) {
        expect(r.status).toBe(200)
        expect(r.text).toBe('{"calls":1}')
        expect(r.headers['x-handler']).toBe('yes')
        expect(r.headers['content-type']).toMatch(/application\/json/)
      }
      expect(counter(responses.map((r) => r.headers['x-cache']))).toEqual({ MISS: 1, HIT: 24 })
      const later = await get(`${url}/slow`)
      expect(later.headers['x-cache']).toBe('HIT')
      expect(Number(later.headers.age)).toBeGreaterThanOrEqual(0)
      expect(later.text).toBe('{"calls":1}')
      expect(calls).toBe(1)
    })

    it('treats query order as the same URL, other queries as other URLs', async () => {
      const { app, cache } = setup()
      let calls = 0
      app.get('/q', cache(), (req, res) => {
        calls++
        res.send(`a=${String(req.query.a)} b=${String(req.query.b)}`)
      })
      const url = await listen(app)
      expect((await get(`${url}/q?a=1&b=2`)).text).toBe('a=1 b=2')
      const again = await get(`${url}/q?b=2&a=1`)
      expect(again.headers['x-cache']).toBe('HIT')
      expect((await get(`${url}/q?a=2&b=2`)).text).toBe('a=2 b=2')
      expect(calls).toBe(2)
    })

    it('lets a second herdCache on the same request step aside instead of deadlocking', async () => {
      const { app, cache } = setup()
      let calls = 0
      app.use(cache())
      app.get('/nested', cache({ ttl: '5s' }), (_req, res) => {
        calls++
        res.send('once')
      })
      const url = await listen(app)
      const [a, b] = await Promise.all([get(`${url}/nested`), get(`${url}/nested`)])
      expect([a.text, b.text]).toEqual(['once', 'once'])
      expect(calls).toBe(1)
    })
  })

  describe('bodies', () => {
    it('captures res.write/res.end chunks, res.send(Buffer), res.json and streams', async () => {
      const { app, cache } = setup()
      const calls: Record<string, number> = {}
      const count = (req: Req) => (calls[req.path] = (calls[req.path] ?? 0) + 1)
      app.get('/chunks', cache(), (req, res) => {
        count(req)
        res.setHeader('content-type', 'text/plain')
        res.write('a')
        res.write(Buffer.from('b'))
        setTimeout(() => res.end('c'), 20)
      })
      app.get('/buffer', cache(), (req, res) => {
        count(req)
        res.type('application/octet-stream').send(Buffer.from([0, 1, 2, 255]))
      })
      app.get('/json', cache(), (req, res) => {
        count(req)
        res.json({ ok: true, list: [1, 2] })
      })
      app.get('/stream', cache(), (req, res) => {
        count(req)
        res.type('text/plain')
        Readable.from(['x'.repeat(10_000), 'y'.repeat(10_000), 'z']).pipe(res)
      })
      app.get('/writehead', cache(), (req, res) => {
        count(req)
        res.writeHead(200, { 'content-type': 'text/csv', 'x-from-writehead': '1' })
        res.end('a,b\n')
      })
      const url = await listen(app)
      const expected: Record<string, Buffer> = {
        '/chunks': Buffer.from('abc'),
        '/buffer': Buffer.from([0, 1, 2, 255]),
        '/json': Buffer.from('{"ok":true,"list":[1,2]}'),
        '/stream': Buffer.from('x'.repeat(10_000) + 'y'.repeat(10_000) + 'z'),
        '/writehead': Buffer.from('a,b\n'),
      }
      for (const [path, body] of Object.entries(expected)) {
        const first = await get(url + path)
        const second = await get(url + path)
        expect(first.body.equals(body), path).toBe(true)
        expect(second.body.equals(body), path).toBe(true)
        expect(second.headers['x-cache'], path).toBe('HIT')
        expect(second.headers['content-type'], path).toBe(first.headers['content-type'])
        expect(second.headers['content-length'], path).toBe(String(body.length))
        expect(calls[path], path).toBe(1)
      }
      expect((await get(`${url}/writehead`)).headers['x-from-writehead']).toBe('1')
    })
  })

  describe('never shares a private response', () => {
    function echoUser(app: App, path: string, cache: ReturnType<typeof herdCache>, calls: { n: number }): void {
      app.get(path, cache, async (req, res) => {
        calls.n++
        await sleep(30)
        res.send(`hello ${req.headers.authorization ?? req.headers.cookie ?? 'anonymous'}`)
      })
    }

    it("never serves user A's Authorization response to user B, or to anyone", async () => {
      const { app, cache } = setup()
      const calls = { n: 0 }
      echoUser(app, '/me', cache(), calls)
      const url = await listen(app)
      const a = await get(`${url}/me`, { headers: { authorization: 'Bearer A' } })
      expect(a.text).toBe('hello Bearer A')
      expect(a.headers['x-cache']).toBe('BYPASS')
      const mixed = await Promise.all(
        times(30, (i) =>
          i % 3 === 0
            ? get(`${url}/me`, { headers: { authorization: 'Bearer A' } })
            : i % 3 === 1
              ? get(`${url}/me`, { headers: { authorization: 'Bearer B' } })
              : get(`${url}/me`),
        ),
      )
      mixed.forEach((r, i) => expect(r.text).toBe(['hello Bearer A', 'hello Bearer B', 'hello anonymous'][i % 3]))
      // Every credentialed request ran its own handler; the anonymous ones shared one run.
      expect(calls.n).toBe(1 + 20 + 1)
      expect((await get(`${url}/me`)).headers['x-cache']).toBe('HIT')
    })

    it("never serves user A's Cookie response to user B", async () => {
      const { app, cache } = setup()
      const calls = { n: 0 }
      echoUser(app, '/me', cache(), calls)
      const url = await listen(app)
      const [a, b, anon] = await Promise.all([
        get(`${url}/me`, { headers: { cookie: 'sid=A' } }),
        get(`${url}/me`, { headers: { cookie: 'sid=B' } }),
        get(`${url}/me`),
      ])
      expect([a.text, b.text, anon.text]).toEqual(['hello sid=A', 'hello sid=B', 'hello anonymous'])
      expect((await get(`${url}/me`, { headers: { cookie: 'sid=B' } })).text).toBe('hello sid=B')
      expect((await get(`${url}/me`)).text).toBe('hello anonymous')
      expect(calls.n).toBe(4)
    })

    it('caches per user when the key function says so, and keeps users apart', async () => {
      const { app, cache } = setup()
      const calls = { n: 0 }
      const perUser = cache({
        key: (req, url) => (req.headers.authorization ? { key: url, user: req.headers.authorization } : url),
      })
      app.get('/me', perUser, async (req, res) => {
        calls.n++
        await sleep(30)
        res.set('cache-control', 'private, max-age=60').send(`hello ${req.headers.authorization ?? 'anonymous'}`)
      })
      const url = await listen(app)
      const first = await Promise.all(times(20, (i) => get(`${url}/me`, { headers: { authorization: i % 2 ? 'A' : 'B' } })))
      first.forEach((r, i) => expect(r.text).toBe(i % 2 ? 'hello A' : 'hello B'))
      expect(calls.n).toBe(2)
      const again = await get(`${url}/me`, { headers: { authorization: 'A' } })
      expect(again.text).toBe('hello A')
      expect(again.headers['x-cache']).toBe('HIT')
      // A private response is never stored for the shared (anonymous) entry: the handler runs each time.
      expect((await get(`${url}/me`)).headers['x-cache']).toBe('BYPASS')
      expect((await get(`${url}/me`)).text).toBe('hello anonymous')
      expect(calls.n).toBe(4)
      await perUser.delete('/me', { user: 'A' })
      expect((await get(`${url}/me`, { headers: { authorization: 'A' } })).headers['x-cache']).toBe('MISS')
      expect((await get(`${url}/me`, { headers: { authorization: 'B' } })).headers['x-cache']).toBe('HIT')
    })

    it('never shares Set-Cookie: concurrent waiters run their own handler and keep their own cookie', async () => {
      const { app, cache } = setup()
      let calls = 0
      let inFlight = 0
      let maxInFlight = 0
      let hold: (() => Promise<void>) | undefined
      app.get('/login', cache(), async (_req, res) => {
        const n = ++calls
        maxInFlight = Math.max(maxInFlight, ++inFlight)
        await (hold ? hold() : sleep(150))
        inFlight--
        res.cookie('sid', `s${n}`).send(`session s${n}`)
      })
      const url = await listen(app)
      const responses = await Promise.all(times(8, () => get(`${url}/login`)))
      const bodies = responses.map((r) => r.text)
      expect(new Set(bodies).size).toBe(8)
      for (const r of responses) expect(String(r.headers['set-cookie'])).toContain(r.text.replace('session ', 'sid='))
      expect(calls).toBe(8)
      // Hit-for-pass: now that the key is known not to be shareable, requests run at once, side by side.
      maxInFlight = 0
      hold = barrier(4)
      const next = await Promise.all(times(4, () => get(`${url}/login`)))
      expect(new Set(next.map((r) => r.text)).size).toBe(4)
      expect(maxInFlight).toBe(4)
      for (const r of next) expect(r.headers['x-cache']).toBe('BYPASS')
    })

    it.each([['private'], ['no-store'], ['no-cache'], ['max-age=0']])('does not share Cache-Control: %s', async (cc) => {
      const { app, cache } = setup()
      let calls = 0
      app.get('/p', cache(), (_req, res) => {
        calls++
        res.set('cache-control', cc).send(`call ${calls}`)
      })
      const url = await listen(app)
      const bodies = await Promise.all(times(5, () => get(`${url}/p`)))
      expect(new Set(bodies.map((r) => r.text)).size).toBe(5)
      expect((await get(`${url}/p`)).text).toBe('call 6')
      expect(calls).toBe(6)
    })
  })

  describe('statuses', () => {
    it('stores cacheable-by-default statuses and passes the others', async () => {
      const { app, cache } = setup()
      const calls: Record<string, number> = {}
      app.get('/status/:code', cache(), (req, res) => {
        calls[req.params.code!] = (calls[req.params.code!] ?? 0) + 1
        res.status(Number(req.params.code)).send(`status ${req.params.code}`)
      })
      const url = await listen(app)
      for (const code of ['200', '404', '410', '201', '302', '400', '403']) {
        await get(`${url}/status/${code}`)
        const second = await get(`${url}/status/${code}`)
        expect(second.status).toBe(Number(code))
      }
      expect(calls).toEqual({ 200: 1, 404: 1, 410: 1, 201: 2, 302: 2, 400: 2, 403: 2 })
    })

    it('follows a narrowed or widened status list', async () => {
      const { app, cache } = setup()
      let calls = 0
      app.get('/narrow', cache({ statuses: [200] }), (_req, res) => {
        calls++
        res.status(404).send('nope')
      })
      app.get('/wide', cache({ statuses: [200, 201] }), (_req, res) => {
        calls++
        res.status(201).send('made')
      })
      const url = await listen(app)
      await get(`${url}/narrow`)
      await get(`${url}/narrow`)
      expect(calls).toBe(2)
      await get(`${url}/wide`)
      expect((await get(`${url}/wide`)).headers['x-cache']).toBe('HIT')
      expect(calls).toBe(3)
    })

    it('lets max-age shorten the ttl', async () => {
      const { app, cache } = setup()
      let calls = 0
      app.get('/short', cache({ ttl: '1h' }), (_req, res) => {
        calls++
        res.set('cache-control', 'public, max-age=1').send(`v${calls}`)
      })
      const url = await listen(app)
      expect((await get(`${url}/short`)).text).toBe('v1')
      expect((await get(`${url}/short`)).text).toBe('v1')
      await sleep(1_300)
      expect((await get(`${url}/short`)).text).toBe('v2')
    })
  })

  describe('Vary', () => {
    it("keys on the response's Vary headers and serves each client its variant", async () => {
      const { app, cache } = setup()
      let calls = 0
      app.get('/greet', cache(), async (req, res) => {
        calls++
        await sleep(30)
        res.vary('Accept-Language').send(req.headers['accept-language'] === 'fr' ? 'bonjour' : 'hello')
      })
      const url = await listen(app)
      const mixed = await Promise.all(times(20, (i) => get(`${url}/greet`, { headers: { 'accept-language': i % 2 ? 'fr' : 'en' } })))
      mixed.forEach((r, i) => expect(r.text).toBe(i % 2 ? 'bonjour' : 'hello'))
      expect(calls).toBe(2)
      expect((await get(`${url}/greet`, { headers: { 'accept-language': 'fr' } })).headers['x-cache']).toBe('HIT')
      expect((await get(`${url}/greet`, { headers: { 'accept-language': 'en' } })).headers['x-cache']).toBe('HIT')
      expect(calls).toBe(2)
    })

    it('keys on configured vary headers and on Host', async () => {
      const { app, cache } = setup()
      let calls = 0
      app.get('/tenant', cache({ vary: ['x-tenant'] }), (req, res) => {
        calls++
        res.send(`${req.headers.host} ${String(req.headers['x-tenant'])}`)
      })
      const url = await listen(app)
      const one = await get(`${url}/tenant`, { headers: { 'x-tenant': 'one', host: 'a.test' } })
      const two = await get(`${url}/tenant`, { headers: { 'x-tenant': 'two', host: 'a.test' } })
      const otherHost = await get(`${url}/tenant`, { headers: { 'x-tenant': 'one', host: 'b.test' } })
      expect([one.text, two.text, otherHost.text]).toEqual(['a.test one', 'a.test two', 'b.test one'])
      expect((await get(`${url}/tenant`, { headers: { 'x-tenant': 'two', host: 'a.test' } })).text).toBe('a.test two')
      expect(calls).toBe(3)
    })

    it('does not store Vary: *', async () => {
      const { app, cache } = setup()
      let calls = 0
      app.get('/star', cache(), (_req, res) => {
        calls++
        res.set('vary', '*').send('x')
      })
      const url = await listen(app)
      await get(`${url}/star`)
      await get(`${url}/star`)
      expect(calls).toBe(2)
    })
  })

  describe('conditional requests and HEAD', () => {
    it('answers If-None-Match and If-Modified-Since with 304 from the cache', async () => {
      const { app, cache } = setup()
      let calls = 0
      const lastModified = 'Wed, 01 Jan 2025 00:00:00 GMT'
      app.get('/doc', cache(), (_req, res) => {
        calls++
        res.set('last-modified', lastModified).type('text/plain').send('document')
      })
      const url = await listen(app)
      // The first request is conditional: the handler still answers in full, so the entry is complete.
      const first = await get(`${url}/doc`, { headers: { 'if-none-match': '"whatever"' } })
      expect(first.status).toBe(200)
      expect(first.text).toBe('document')
      const full = await get(`${url}/doc`)
      expect(full.headers['x-cache']).toBe('HIT')
      const etag = String(full.headers.etag)
      expect(etag).toMatch(/^W\/"/)
      const notModified = await get(`${url}/doc`, { headers: { 'if-none-match': etag } })
      expect(notModified.status).toBe(304)
      expect(notModified.body.length).toBe(0)
      expect(notModified.headers.etag).toBe(etag)
      expect(notModified.headers['x-cache']).toBe('HIT')
      const since = await get(`${url}/doc`, { headers: { 'if-modified-since': 'Thu, 02 Jan 2025 00:00:00 GMT' } })
      expect(since.status).toBe(304)
      const older = await get(`${url}/doc`, { headers: { 'if-modified-since': 'Tue, 31 Dec 2024 00:00:00 GMT' } })
      expect(older.status).toBe(200)
      expect(older.text).toBe('document')
      const otherTag = await get(`${url}/doc`, { headers: { 'if-none-match': '"other"' } })
      expect(otherTag.status).toBe(200)
      expect(calls).toBe(1)
    })

    it('serves HEAD from the GET entry, and fills it from a HEAD', async () => {
      const { app, cache } = setup()
      const methods: string[] = []
      app.get('/h', cache(), (req, res) => {
        methods.push(req.method)
        res.type('text/plain').send('body of h')
      })
      const url = await listen(app)
      const head = await get(`${url}/h`, { method: 'HEAD' })
      expect(head.status).toBe(200)
      expect(head.body.length).toBe(0)
      expect(head.headers['content-length']).toBe('9')
      const got = await get(`${url}/h`)
      expect(got.text).toBe('body of h')
      expect(got.headers['x-cache']).toBe('HIT')
      const head2 = await get(`${url}/h`, { method: 'HEAD' })
      expect(head2.headers['x-cache']).toBe('HIT')
      expect(head2.headers['content-length']).toBe('9')
      expect(methods).toEqual(['GET'])
    })

    it('passes other methods through', async () => {
      const { app, cache } = setup()
      let calls = 0
      app.post('/p', cache(), (_req, res) => {
        calls++
        res.send('posted')
      })
      const url = await listen(app)
      await get(`${url}/p`, { method: 'POST' })
      const again = await get(`${url}/p`, { method: 'POST' })
      expect(again.headers['x-cache']).toBe('BYPASS')
      expect(calls).toBe(2)
    })
  })

  describe('compression', () => {
    const text = 'lorem ipsum dolor sit amet '.repeat(200)

    for (const order of ['compression before herdCache', 'compression after herdCache'] as const) {
      it(`${order}: every client decodes the right body, and no gzip body reaches a client that did not ask for it`, async () => {
        const { app, cache } = setup()
        let calls = 0
        const handler = async (_req: Req, res: Res) => {
          calls++
          await sleep(20)
          res.type('text/plain').send(text)
        }
        if (order === 'compression before herdCache') app.get('/c', compression({ threshold: 0 }), cache(), handler)
        else app.get('/c', cache(), compression({ threshold: 0 }), handler)
        const url = await listen(app)
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
        check(await get(`${url}/c`), false)
        check(await get(`${url}/c`, { headers: { 'accept-encoding': 'identity' } }), false)
        const mixed = await Promise.all(times(20, (i) => get(`${url}/c`, i % 2 ? { headers: { 'accept-encoding': 'gzip' } } : {})))
        mixed.forEach((r, i) => check(r, i % 2 === 1))
        // Compression in front caches one uncompressed entry; behind, one entry per Accept-Encoding.
        expect(calls).toBe(order === 'compression before herdCache' ? 1 : 3)
      })
    }
  })

  describe('errors', () => {
    it('does not cache a thrown error, and the error reaches the error handler', async () => {
      const { app, cache } = setup()
      const seen: string[] = []
      let fail = true
      let calls = 0
      app.get('/e', cache(), (_req, _res) => {
        calls++
        if (fail) throw new Error('boom')
        _res.send('fine')
      })
      errorHandler(app, seen)
      const url = await listen(app)
      const bad = await get(`${url}/e`)
      expect(bad.status).toBe(500)
      expect(bad.text).toBe('handled: boom')
      expect(seen).toEqual(['boom'])
      fail = false
      const good = await get(`${url}/e`)
      expect(good.text).toBe('fine')
      expect((await get(`${url}/e`)).headers['x-cache']).toBe('HIT')
      expect(calls).toBe(2)
    })

    it('does not cache next(err); concurrent requests each reach the error handler', async () => {
      const { app, cache } = setup()
      const seen: string[] = []
      app.get('/e', cache(), (_req, _res, next) => {
        setTimeout(() => next(new Error('later')), 50)
      })
      errorHandler(app, seen)
      const url = await listen(app)
      const responses = await Promise.all(times(5, () => get(`${url}/e`)))
      for (const r of responses) {
        expect(r.status).toBe(500)
        expect(r.text).toBe('handled: later')
      }
      expect(seen.length).toBe(5)
      expect((await get(`${url}/e`)).text).toBe('handled: later')
      expect(seen.length).toBe(6)
    })

    it('serves the stale response inside staleIfError when the refresh fails', async () => {
      const { app, cache } = setup()
      const seen: string[] = []
      let fail = false
      app.get('/sie', cache({ ttl: '200ms', staleIfError: '1m' }), (_req, res) => {
        if (fail) throw new Error('db down')
        res.send('good')
      })
      errorHandler(app, seen)
      const url = await listen(app)
      expect((await get(`${url}/sie`)).text).toBe('good')
      fail = true
      await sleep(300)
      const stale = await get(`${url}/sie`)
      expect(stale.status).toBe(200)
      expect(stale.text).toBe('good')
      expect(stale.headers['x-cache']).toBe('STALE')
      expect(seen).toContain('db down')
    })

    it('throws HerdArgumentError at creation for bad options, not per request', () => {
      expect(() => herdCache('soon')).toThrow(HerdArgumentError)
      expect(() => herdCache({ ttl: '1s', methods: ['POST'] })).toThrow(HerdArgumentError)
      expect(() => herdCache({} as never)).toThrow(/ttl is required/)
    })

    it('sends an error thrown by the key function to the error handler', async () => {
      const { app, cache } = setup()
      const seen: string[] = []
      app.get(
        '/k',
        cache({
          key: () => {
            throw new Error('bad key')
          },
        }),
        (_req, res) => {
          res.send('unreached')
        },
      )
      errorHandler(app, seen)
      const url = await listen(app)
      expect((await get(`${url}/k`)).text).toBe('handled: bad key')
    })
  })

  describe('stale-while-revalidate', () => {
    it('serves the stale response at once, then the refreshed one, refreshing in a detached run', async () => {
      const { app, cache } = setup()
      let version = 0
      const background: boolean[] = []
      const refresh = gate()
      app.get('/swr', cache({ ttl: '500ms', staleWhileRevalidate: '1m' }), async (req, res) => {
        version++
        background.push(isBackgroundRefresh(req))
        if (version > 1) await refresh.wait()
        res.send(`v${version}`)
      })
      const url = await listen(app)
      expect((await get(`${url}/swr`)).text).toBe('v1')
      await sleep(600)
      const stale = await Promise.all(times(10, () => get(`${url}/swr`)))
      for (const r of stale) {
        expect(r.text).toBe('v1')
        expect(r.headers['x-cache']).toBe('STALE')
      }
      refresh.open()
      const fresh = await eventually(async () => {
        const r = await get(`${url}/swr`)
        return r.text === 'v2' ? r : undefined
      })
      expect(fresh.headers['x-cache']).toBe('HIT')
      expect(version).toBe(2)
      expect(background).toEqual([false, true])
    })
  })

  describe('limits and failures', () => {
    it('serves a response over maxBodySize in full but does not store it', async () => {
      const { app, cache } = setup()
      let calls = 0
      const big = Buffer.alloc(50_000, 'b')
      app.get('/big', cache({ maxBodySize: '10kb' }), (_req, res) => {
        calls++
        res.type('application/octet-stream').send(big)
      })
      app.get('/big-stream', cache({ maxBodySize: 1000 }), (_req, res) => {
        calls++
        Readable.from([big.subarray(0, 25_000), big.subarray(25_000)]).pipe(res)
      })
      const url = await listen(app)
      for (const path of ['/big', '/big-stream']) {
        const a = await get(url + path)
        const b = await get(url + path)
        expect(a.body.equals(big)).toBe(true)
        expect(b.body.equals(big)).toBe(true)
      }
      expect(calls).toBe(4)
    })

    it('does not store a response whose client left mid-way; its waiters get a full response', async () => {
      const { app, cache } = setup()
      let calls = 0
      app.get('/drip', cache(), (_req, res) => {
        calls++
        res.type('text/plain')
        const body = new PassThrough()
        body.pipe(res)
        body.write('part1-')
        if (calls === 1) return // the first run never finishes on its own: its client leaves
        setTimeout(() => body.end('part2'), 20)
      })
      const url = await listen(app)
      const { request } = await import('undici')
      const controller = new AbortController()
      const leaving = await request(`${url}/drip`, { signal: controller.signal })
      const waiter = get(`${url}/drip`)
      await sleep(50)
      leaving.body.once('data', () => controller.abort())
      await leaving.body.text().catch(() => undefined)
      const waited = await waiter
      expect(waited.text).toBe('part1-part2')
      const next = await get(`${url}/drip`)
      expect(next.text).toBe('part1-part2')
      expect(next.headers['x-cache']).toBe('HIT')
      expect(calls).toBe(2)
    })
  })

  describe('headers and options', () => {
    it('never replays headers set in front of herdCache (a request id), and keeps the ones set behind it', async () => {
      const { app, cache } = setup()
      let id = 0
      let calls = 0
      app.use((_req, res, next) => {
        res.set('x-request-id', `r${++id}`)
        next()
      })
      app.get('/ids', cache(), (_req, res) => {
        calls++
        res.set('x-route', 'ids').send('same')
      })
      const url = await listen(app)
      const first = await get(`${url}/ids`)
      const second = await get(`${url}/ids`)
      expect([first.headers['x-request-id'], second.headers['x-request-id']]).toEqual(['r1', 'r2'])
      expect(second.headers['x-route']).toBe('ids')
      expect(second.headers['x-cache']).toBe('HIT')
      expect(calls).toBe(1)
    })

    it('renames or drops the cache header, and skips the cache when key() says so', async () => {
      const { app, cache } = setup()
      let calls = 0
      const handler = (_req: Req, res: Res) => {
        calls++
        res.send('x')
      }
      app.get('/renamed', cache({ cacheHeader: 'X-Herd' }), handler)
      app.get('/silent', cache({ cacheHeader: false }), handler)
      app.get('/skipped', cache({ key: (req) => (req.query.nocache ? false : req.path) }), handler)
      const url = await listen(app)
      await get(`${url}/renamed`)
      const renamed = await get(`${url}/renamed`)
      expect(renamed.headers['x-herd']).toBe('HIT')
      expect(renamed.headers['x-cache']).toBeUndefined()
      await get(`${url}/silent`)
      const silent = await get(`${url}/silent`)
      expect(silent.headers['x-cache']).toBeUndefined()
      expect(calls).toBe(2)
      await get(`${url}/skipped?nocache=1`)
      await get(`${url}/skipped?nocache=1`)
      expect(calls).toBe(4)
      await get(`${url}/skipped`)
      expect((await get(`${url}/skipped?other=1`)).headers['x-cache']).toBe('HIT')
      expect(calls).toBe(5)
    })

    it('never serves a must-revalidate response once it is stale', async () => {
      const { app, cache } = setup()
      let version = 0
      app.get('/strict', cache({ ttl: '1h', staleWhileRevalidate: '1h' }), (_req, res) => {
        version++
        res.set('cache-control', 'max-age=1, must-revalidate').send(`v${version}`)
      })
      const url = await listen(app)
      expect((await get(`${url}/strict`)).text).toBe('v1')
      expect((await get(`${url}/strict`)).headers['x-cache']).toBe('HIT')
      await sleep(1_200)
      const after = await get(`${url}/strict`)
      expect(after.text).not.toBe('v1')
      expect(after.headers['x-cache']).not.toBe('STALE')
    })

    it('stores a must-revalidate response without stale windows: after its ttl one run revalidates it, and a failed run never brings it back', async () => {
      const { app, cache } = setup()
      let version = 0
      let status = 200
      // beta 0: no XFetch early refresh, so the runs counted are the ones the ttl calls for.
      const herd = track(createHerd({ beta: 0 }))
      app.get('/revalidate', cache({ ttl: '300ms', staleWhileRevalidate: '1h', staleIfError: '1h', herd }), async (_req, res) => {
        version++
        await sleep(50)
        res.status(status).set('cache-control', 'must-revalidate').send(`v${version}`)
      })
      const url = await listen(app)
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
      const { app, cache } = setup()
      let calls = 0
      let cookie = true
      const herd = track(createHerd({ beta: 0 }))
      app.get('/pass', cache({ passTtl: '300ms', staleWhileRevalidate: '1h', staleIfError: '1h', herd }), async (_req, res) => {
        calls++
        await sleep(50)
        if (cookie) res.cookie('sid', String(calls))
        res.send(`v${calls}`)
      })
      const url = await listen(app)
      expect((await get(`${url}/pass`)).headers['x-cache']).toBe('BYPASS')
      expect((await get(`${url}/pass`)).headers['x-cache']).toBe('BYPASS')
      cookie = false
      await sleep(400)
      const shared = await Promise.all(times(5, () => get(`${url}/pass`)))
      expect(shared.map((r) => r.text)).toEqual(Array(5).fill('v3'))
      expect(counter(shared.map((r) => r.headers['x-cache']))).toEqual({ MISS: 1, HIT: 4 })
      expect(calls).toBe(3)
    })
  })

  describe('invalidation', () => {
    it('delete drops every variant of a URL; expire serves stale while refreshing', async () => {
      const { app, cache } = setup()
      let version = 0
      const mw = cache({ staleWhileRevalidate: '1m' })
      app.get('/items/:id', mw, (req, res) => {
        version++
        res.vary('accept-language').send(`${String(req.headers['accept-language'])} v${version}`)
      })
      const url = await listen(app)
      const en = { headers: { 'accept-language': 'en' } }
      const fr = { headers: { 'accept-language': 'fr' } }
      expect((await get(`${url}/items/1`, en)).text).toBe('en v1')
      expect((await get(`${url}/items/1`, fr)).text).toBe('fr v2')
      expect((await get(`${url}/items/1`, fr)).text).toBe('fr v2')
      await mw.delete('/items/1')
      expect((await get(`${url}/items/1`, fr)).text).toBe('fr v3')
      expect((await get(`${url}/items/1`, en)).text).toBe('en v4')
      await mw.expire('/items/1')
      const stale = await get(`${url}/items/1`, fr)
      expect(stale.text).toBe('fr v3')
      expect(stale.headers['x-cache']).toBe('STALE')
      await eventually(async () => ((await get(`${url}/items/1`, fr)).text === 'fr v5' ? true : undefined))
      // The other variant follows the refreshed route entry.
      await eventually(async () => ((await get(`${url}/items/1`, en)).text === 'en v6' ? true : undefined))
      expect(mw.keyFor('/items/1?b=1&a=2')).toBe('http:/items/1?a=2&b=1')
      expect(mw.keyFor('https://example.test/items/1')).toBe('http:/items/1')
    })

    it('uses one in-memory herd shared by every herdCache without a herd option', () => {
      expect(herdCache('1m').herd).toBe(herdCache('2m').herd)
    })
  })
})
