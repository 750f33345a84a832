import { Readable } from 'node:stream'
import { gunzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import compression from 'compression'
import express5 from 'express'
import express4 from 'express4'
import { createHerd, HerdArgumentError, type Herd } from '@herd/core'
import { herdCache, type HerdCacheOptions } from '../src/index.js'
import { resetOrderWarning } from '../src/order.js'
import { closeAll, get, listen, sleep, times, track } from '@herd/testing/http-harness'

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
        // Either way one entry per Accept-Encoding value: behind herdCache it stores the encoded bytes; in front,
        // the uncompressed body, but the Vary: Accept-Encoding compression adds as the response leaves counts too.
        expect(calls).toBe(3)
      })
    }
  })

  describe('errors', () => {
    it("does not cache next(err): every request gets the error handler's answer, and the next one runs again", async () => {
      const { app, cache } = setup()
      const seen: string[] = []
      app.get('/e', cache(), (_req, _res, next) => {
        setTimeout(() => next(new Error('later')), 20)
      })
      errorHandler(app, seen)
      const url = await listen(app)
      // (How many runs the concurrent ones cost is the shared suite's failing-leader case, made deterministic there.)
      const responses = await Promise.all(times(5, () => get(`${url}/e`)))
      for (const r of responses) expect([r.status, r.text]).toEqual([500, 'handled: later'])
      const before = seen.length
      expect(before).toBeGreaterThan(0)
      expect((await get(`${url}/e`)).text).toBe('handled: later')
      expect(seen.length).toBe(before + 1)
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

  describe('setup mistakes (issue 16)', () => {
    it('answers app.use(herdCache), uncalled, with an error that says what is wrong', async () => {
      const app = express()
      const seen: string[] = []
      app.use(herdCache as never)
      app.get('/x', (_req, res) => {
        res.send('x')
      })
      errorHandler(app, seen)
      const url = await listen(app)
      const r = await get(`${url}/x`)
      expect(r.status).toBe(500)
      expect(seen[0]).toMatch(/passed to app\.use\(\) without being called.*app\.use\(herdCache\('30s'\)\)/)
    })

    it('warns once when herdCache is mounted after routes it can never see', async () => {
      resetOrderWarning()
      const warnings: string[] = []
      const onWarning = (w: Error & { code?: string }) => void (w.code === 'HERD_CACHE_AFTER_ROUTES' && warnings.push(w.message))
      process.on('warning', onWarning)
      try {
        const { app, cache } = setup()
        app.get('/early', (_req, res) => {
          res.send('not cached')
        })
        app.use(cache())
        app.use((_req, res) => {
          res.status(404).send('nothing')
        })
        const url = await listen(app)
        await get(`${url}/early`)
        await get(`${url}/other`)
        await get(`${url}/other2`)
        await new Promise((resolve) => setImmediate(resolve))
        expect(warnings).toHaveLength(1)
        expect(warnings[0]).toMatch(/after 1 route\(s\) \(\/early\)/)
      } finally {
        process.off('warning', onWarning)
      }
    })

    it('gives every herdCache without a herd option a herd of its own', () => {
      expect(herdCache('1m').herd).not.toBe(herdCache('2m').herd)
    })
  })
})
