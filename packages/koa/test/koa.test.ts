import { Readable } from 'node:stream'
import { gunzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import Koa3, { type Context, type Next } from 'koa'
import Koa2 from 'koa2'
import compress from 'koa-compress'
import { createHerd, HerdArgumentError, type Herd } from '@herd/core'
import { herdCache, type HerdCacheOptions } from '../src/index.js'
import { resetOrderWarning } from '../src/order.js'
import { closeAll, get, listen, sleep, times, track } from '@herd/testing/http-harness'

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

  describe('statuses and errors', () => {
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
      // The four requests: at best a leader, one retry leader for the three that waited, and the failure shared by the
      // other two; on a loaded machine they may arrive apart and each run the handler. Never fewer: no error was cached.
      expect(calls).toBeGreaterThanOrEqual(2 + 1 + 2)
      expect(calls).toBeLessThanOrEqual(4 + 1 + 2)
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

    it('throws HerdArgumentError at creation for bad options', () => {
      expect(() => herdCache('soon')).toThrow(HerdArgumentError)
      expect(() => herdCache({ ttl: '1s', statuses: [304] })).toThrow(HerdArgumentError)
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
        // One entry per Accept-Encoding value either way: in front, koa-compress's Vary counts as the response leaves.
        expect(calls).toBe(2)
      })
    }
  })

  describe('setup mistakes (issue 16)', () => {
    it('answers app.use(herdCache), uncalled, with an error that says what is wrong', async () => {
      const errors: string[] = []
      const app = new Koa()
      app.on('error', (error: Error) => errors.push(error.message))
      app.use(herdCache as never)
      app.use((ctx: Context) => {
        ctx.body = 'x'
      })
      const url = await listen(app.callback())
      expect((await get(`${url}/x`)).status).toBe(500)
      expect(errors[0]).toMatch(/passed to app\.use\(\) without being called.*app\.use\(herdCache\('30s'\)\)/)
    })

    it('warns once when herdCache comes after a router', async () => {
      resetOrderWarning()
      const warnings: string[] = []
      const onWarning = (w: Error & { code?: string }) => void (w.code === 'HERD_CACHE_AFTER_ROUTES' && warnings.push(w.message))
      process.on('warning', onWarning)
      try {
        const app = new Koa()
        const router = Object.assign(async (ctx: Context, next: Next) => (ctx.path === '/routed' ? void (ctx.body = 'routed') : next()), { router: {} })
        app.use(router)
        app.use(herdCache({ ttl: '1m', herd: track(createHerd()) }))
        app.use((ctx: Context) => {
          ctx.body = 'x'
        })
        const url = await listen(app.callback())
        await get(`${url}/other`)
        await get(`${url}/other2`)
        await new Promise((resolve) => setImmediate(resolve))
        expect(warnings).toHaveLength(1)
        expect(warnings[0]).toMatch(/after 1 router/)
      } finally {
        process.off('warning', onWarning)
      }
    })
  })
})
