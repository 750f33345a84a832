/**
 * One behaviour suite for every herdCache binding (Express 4 and 5, Koa 2 and
 * 3, plain node:http): the same requests against real servers, the same
 * expectations. A binding passes a driver (http-binding-driver.ts) per
 * framework version; the suite builds every app through it.
 */
import { request as httpRequest } from 'node:http'
import { PassThrough, Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { createHerd, type HerdOptions } from '@herd/core'
import type { AppSpec, BindingDriver, ServedApp, SuiteHandler } from './http-binding-driver.js'
import { barrier, closeAll, counter, eventually, get, listen, sleep, times, track } from './http-harness.js'

export { httpFleetSuite, type FleetSuiteOptions } from './http-fleet-suite.js'
export type { AppSpec, BindingDriver, FrontMiddleware, ServedApp, ServedCache, SuiteHandler, SuiteReply, SuiteRequest } from './http-binding-driver.js'

type Spec = Omit<AppSpec, 'options'> & { options?: Record<string, unknown>; herd?: HerdOptions }

/** A body stream of `chunks` for drivers' SuiteReply.stream: it ends at once, or when `end` settles. */
export function streamOf(chunks: Array<string | Buffer>, end?: Promise<void>): Readable {
  if (end === undefined) return Readable.from(chunks)
  const body = new PassThrough()
  for (const chunk of chunks) body.write(chunk)
  void end.then(() => body.end())
  return body
}

/** Reads `bytes` bytes of a response, then hangs up: a client that left mid-way. */
function readThenLeave(url: string, bytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, (res) => {
      let got = ''
      res.on('data', (chunk: Buffer) => {
        got += chunk.toString()
        if (got.length >= bytes) {
          req.destroy()
          resolve(got)
        }
      })
      res.on('error', () => undefined)
    })
    req.on('error', (error) => (req.destroyed ? undefined : reject(error)))
    req.end()
  })
}

export function httpBindingSuite(drivers: BindingDriver | readonly BindingDriver[]): void {
  afterEach(closeAll)
  for (const driver of Array.isArray(drivers) ? drivers : [drivers as BindingDriver]) {
    describe(`herdCache behaviour on ${driver.name}`, () => suite(driver))
  }
}

function suite(driver: BindingDriver): void {
  /** An app on a herd of its own (closed after the test), ttl 1m unless the spec says otherwise. */
  function serve(spec: Spec): Promise<ServedApp> {
    const herd = track(createHerd(spec.herd ?? {}))
    return driver.serve({ ...spec, options: { ttl: '1m', herd, ...spec.options } })
  }

  describe('coalescing and keys', () => {
    it('runs the handler once for concurrent requests and serves everyone its response', async () => {
      let calls = 0
      const { url } = await serve({
        handler: async (_req, reply) => {
          calls++
          await sleep(50)
          reply.set('x-handler', 'yes')
          reply.send(`calls=${calls}`)
        },
      })
      const responses = await Promise.all(times(25, () => get(`${url}/slow`)))
      expect(calls).toBe(1)
      for (const r of responses) {
        expect(r.status).toBe(200)
        expect(r.text).toBe('calls=1')
        expect(r.headers['x-handler']).toBe('yes')
      }
      expect(counter(responses.map((r) => r.headers['x-cache']))).toEqual({ MISS: 1, HIT: 24 })
      expect(Number((await get(`${url}/slow`)).headers.age)).toBeGreaterThanOrEqual(0)
    })

    it('treats query order as the same URL, other queries as other URLs', async () => {
      let calls = 0
      const { url } = await serve({ handler: (req, reply) => (calls++, reply.send(req.url)) })
      expect((await get(`${url}/q?a=1&b=2`)).text).toBe('/q?a=1&b=2')
      expect((await get(`${url}/q?b=2&a=1`)).headers['x-cache']).toBe('HIT')
      expect((await get(`${url}/q?a=2&b=2`)).text).toBe('/q?a=2&b=2')
      expect(calls).toBe(2)
    })

    it('keeps two apps in one process apart: each herdCache without a herd has its own', async () => {
      const a = await driver.serve({ handler: (_req, reply) => reply.send('app A'), options: { ttl: '1m' } })
      const b = await driver.serve({ handler: (_req, reply) => reply.send('app B'), options: { ttl: '1m' } })
      const host = { host: 'same.example' }
      expect((await get(`${a.url}/same`, { headers: host })).text).toBe('app A')
      expect((await get(`${a.url}/same`, { headers: host })).headers['x-cache']).toBe('HIT')
      expect((await get(`${b.url}/same`, { headers: host })).text).toBe('app B')
      expect(a.cache.herd).not.toBe(b.cache.herd)
    })

    it('makes keys injective: decoded request input in key() cannot reach a per-user entry', async () => {
      const { url } = await serve({
        handler: (req, reply) => reply.send(`results for ${req.headers['x-user'] ?? 'anyone'}`),
        options: {
          // Express's req, Koa's ctx and node's req all have `headers`.
          key: (source: { headers: Record<string, string> }, u: string) => {
            const q = new URL(u, 'http://x').searchParams.get('q') ?? ''
            return source.headers['x-user'] !== undefined ? { key: `search:${q}`, user: source.headers['x-user'] } : `search:${q}`
          },
        },
      })
      expect((await get(`${url}/s?q=x`, { headers: { 'x-user': 'bob' } })).text).toBe('results for bob')
      const attack = await get(`${url}/s?q=x%00user:bob`)
      expect(attack.text).toBe('results for anyone')
      const pipe = await get(`${url}/s?q=x%7Cbob`)
      expect(pipe.text).toBe('results for anyone')
    })

    it('never shares a fat GET (a GET with a body)', async () => {
      let calls = 0
      const { url } = await serve({ handler: (_req, reply) => reply.send(`run ${++calls}`) })
      await get(`${url}/fat`)
      const fat = await get(`${url}/fat`, { headers: { 'content-type': 'text/plain' }, body: 'x' })
      expect(fat.text).toBe('run 2')
      expect(fat.headers['x-cache']).toBe('BYPASS')
      expect((await get(`${url}/fat`)).text).toBe('run 1')
    })
  })

  describe('privacy', () => {
    const echoUser: SuiteHandler = async (req, reply) => {
      await sleep(20)
      reply.send(`hello ${req.headers.authorization ?? req.headers.cookie ?? 'anonymous'}`)
    }

    it("never serves one user's Authorization or Cookie response to another", async () => {
      const { url } = await serve({ handler: echoUser })
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
    })

    it('caches per user when the key function says so, and keeps users apart', async () => {
      let calls = 0
      const app = await serve({
        handler: async (req, reply) => {
          calls++
          await sleep(20)
          reply.set('cache-control', 'private, max-age=60')
          reply.send(`hello ${req.headers.authorization ?? 'anonymous'}`)
        },
        options: {
          key: (source: { headers: Record<string, string> }, u: string) =>
            source.headers.authorization ? { key: u, user: source.headers.authorization } : u,
        },
      })
      const first = await Promise.all(times(20, (i) => get(`${app.url}/me`, { headers: { authorization: i % 2 ? 'A' : 'B' } })))
      first.forEach((r, i) => expect(r.text).toBe(i % 2 ? 'hello A' : 'hello B'))
      expect(calls).toBe(2)
      expect((await get(`${app.url}/me`, { headers: { authorization: 'A' } })).headers['x-cache']).toBe('HIT')
      expect((await get(`${app.url}/me`)).headers['x-cache']).toBe('BYPASS')
      await app.cache.delete('/me', { user: 'A' })
      expect((await get(`${app.url}/me`, { headers: { authorization: 'A' } })).headers['x-cache']).toBe('MISS')
      expect((await get(`${app.url}/me`, { headers: { authorization: 'B' } })).headers['x-cache']).toBe('HIT')
    })

    it('never shares Set-Cookie: waiters run their own handler and keep their own cookie', async () => {
      let calls = 0
      const { url } = await serve({
        handler: async (_req, reply) => {
          const n = ++calls
          await sleep(50)
          reply.set('set-cookie', `sid=s${n}`)
          reply.send(`session s${n}`)
        },
      })
      const responses = await Promise.all(times(8, () => get(`${url}/login`)))
      expect(new Set(responses.map((r) => r.text)).size).toBe(8)
      for (const r of responses) expect(String(r.headers['set-cookie'])).toBe(r.text.replace('session ', 'sid='))
    })

    it.each([['private'], ['no-store']])('does not share Cache-Control: %s', async (cc) => {
      let calls = 0
      const { url } = await serve({ handler: (_req, reply) => (reply.set('cache-control', cc), reply.send(`call ${++calls}`)) })
      const bodies = await Promise.all(times(5, () => get(`${url}/p`)))
      expect(new Set(bodies.map((r) => r.text)).size).toBe(5)
    })

    it('decides on the headers as they leave: a Set-Cookie added late by middleware in front (a session) is never stored', async () => {
      let calls = 0
      const { url } = await serve({
        handler: (_req, reply) => reply.send(`page with csrf token ${++calls}`),
        front: { late: (req) => (req.headers['x-new-visitor'] ? { 'set-cookie': 'sid=first-visitor' } : undefined) },
      })
      const first = await get(`${url}/form`, { headers: { 'x-new-visitor': '1' } })
      expect(first.text).toBe('page with csrf token 1')
      expect(first.headers['set-cookie']).toBe('sid=first-visitor')
      const second = await get(`${url}/form`)
      expect(second.text).toBe('page with csrf token 2')
      expect(second.headers['set-cookie']).toBeUndefined()
    })

    it('decides on the headers as they leave: a late no-store from middleware in front is never stored', async () => {
      let calls = 0
      const { url } = await serve({
        handler: (_req, reply) => reply.send(`run ${++calls}`),
        front: { late: () => ({ 'cache-control': 'no-store' }) },
      })
      expect((await get(`${url}/late`)).text).toBe('run 1')
      expect((await get(`${url}/late`)).text).toBe('run 2')
    })

    it('hit-for-pass never becomes a pass-through: after one personalised response, the next shareable one is stored', async () => {
      let calls = 0
      const { url } = await serve({
        handler: (req, reply) => {
          calls++
          if (req.headers['x-login']) reply.set('set-cookie', 'sid=1')
          reply.send('home')
        },
      })
      expect((await get(`${url}/home`, { headers: { 'x-login': '1' } })).headers['x-cache']).toBe('BYPASS')
      const after = []
      for (let i = 0; i < 20; i++) after.push(await get(`${url}/home`))
      expect(after.map((r) => r.text)).toEqual(Array(20).fill('home'))
      expect(calls).toBe(2)
      expect(counter(after.map((r) => r.headers['x-cache']))).toEqual({ MISS: 1, HIT: 19 })
    })

    it('a burst behind one personalised response costs two runs: its waiters elect one new leader, whose shareable response serves them', async () => {
      let calls = 0
      let arrived = 0
      let letIn!: () => void
      const allIn = new Promise<void>((resolve) => (letIn = resolve))
      const { url } = await serve({
        handler: async (_req, reply) => {
          // The 50 requests join the first run's flight within the tick they are let in; it answers after that.
          await new Promise((resolve) => setImmediate(resolve))
          if (++calls === 1) reply.set('set-cookie', 'sid=first-visitor')
          reply.send('home')
        },
        front: {
          hold: () => {
            if (++arrived === 50) letIn()
            return allIn
          },
        },
      })
      const burst = await Promise.all(times(50, () => get(`${url}/home`)))
      expect(burst.map((r) => r.text)).toEqual(Array(50).fill('home'))
      expect(burst.filter((r) => r.headers['set-cookie'] !== undefined)).toHaveLength(1)
      expect(calls).toBe(2)
    })
  })

  describe('statuses and errors', () => {
    it('stores cacheable-by-default statuses and passes the others', async () => {
      const calls: Record<string, number> = {}
      const { url } = await serve({
        handler: (req, reply) => {
          const code = req.url.slice(1)
          calls[code] = (calls[code] ?? 0) + 1
          reply.status(Number(code))
          reply.send(`status ${code}`)
        },
      })
      for (const code of ['200', '404', '410', '301', '201', '302', '400', '403']) {
        await get(`${url}/${code}`)
        expect((await get(`${url}/${code}`)).status).toBe(Number(code))
      }
      expect(calls).toEqual({ 200: 1, 404: 1, 410: 1, 301: 1, 201: 2, 302: 2, 400: 2, 403: 2 })
    })

    it('does not cache a thrown error; it reaches the error handling', async () => {
      const errors: string[] = []
      let fail = true
      const { url } = await serve({
        handler: (_req, reply) => {
          if (fail) throw new Error('boom')
          reply.send('fine')
        },
        errors,
      })
      const bad = await get(`${url}/e`)
      expect([bad.status, bad.text]).toEqual([500, 'handled: boom'])
      expect(errors).toEqual(['boom'])
      fail = false
      expect((await get(`${url}/e`)).text).toBe('fine')
      expect((await get(`${url}/e`)).headers['x-cache']).toBe('HIT')
    })

    for (const failure of ['throws', 'answers 503', 'times out'] as const) {
      it(`200 requests waiting on a leader that ${failure} cause at most 2 handler runs, and all get the failure`, async () => {
        let runs = 0
        const errors: string[] = []
        // Every request is held in front of herdCache until all 200 arrived, then let in within one tick: they all
        // join the leader's flight before any timer (the hard timeout included) can fire, however loaded the machine.
        let arrived = 0
        let letIn!: () => void
        const allIn = new Promise<void>((resolve) => (letIn = resolve))
        let unhang!: () => void
        const hang = new Promise<void>((resolve) => (unhang = resolve))
        const herd = track(createHerd(failure === 'times out' ? { hardTimeout: 300 } : {}))
        const { url } = await driver.serve({
          handler: async (_req, reply) => {
            runs++
            // Let every waiter's retry join the new leader before it fails too.
            await new Promise((resolve) => setImmediate(resolve))
            if (failure === 'throws') throw new Error('db down')
            if (failure === 'times out') await hang
            reply.status(503)
            reply.send('unavailable')
          },
          front: {
            hold: () => {
              if (++arrived === 200) letIn()
              return allIn
            },
          },
          options: { ttl: '1m', herd },
          errors,
        })
        let answered = 0
        const pending = Promise.all(times(200, () => get(`${url}/down`).finally(() => answered++)))
        if (failure === 'times out') {
          // The two leaders hang; once the 198 waiters were answered (after two hard timeouts), let the leaders finish.
          await eventually(async () => (answered >= 198 ? true : undefined), 30_000)
          unhang()
        }
        const responses = await pending
        expect(runs).toBeLessThanOrEqual(2)
        const statuses = counter(responses.map((r) => String(r.status)))
        if (failure === 'times out') {
          expect(Object.keys(statuses).every((s) => s === '500' || s === '503')).toBe(true)
        } else {
          expect(statuses).toEqual({ [failure === 'throws' ? '500' : '503']: 200 })
          for (const r of responses) expect(r.text).toBe(failure === 'throws' ? 'handled: db down' : 'unavailable')
        }
      })
    }

    it('serves the stale response inside staleIfError when the refresh fails', async () => {
      const errors: string[] = []
      let fail = false
      const app = await serve({
        handler: (_req, reply) => {
          if (fail) throw new Error('db down')
          reply.send('good')
        },
        options: { ttl: '200ms', staleIfError: '1m' },
        errors,
      })
      expect((await get(`${app.url}/sie`)).text).toBe('good')
      fail = true
      // Past the ttl (a lower bound, not a window): the entry now only stands in for a failed run.
      await sleep(300)
      const stale = await get(`${app.url}/sie`)
      expect([stale.status, stale.text, stale.headers['x-cache']]).toEqual([200, 'good', 'STALE'])
      await eventually(async () => (errors.includes('db down') ? true : undefined))
    })

    it('never stores a response shorter than its Content-Length', async () => {
      let calls = 0
      const { url } = await serve({ handler: (_req, reply) => (calls++, reply.stream(['0123456789'], 100)) })
      expect(await readThenLeave(`${url}/short`, 10)).toBe('0123456789')
      await eventually(async () => (calls === 1 ? true : undefined))
      await readThenLeave(`${url}/short`, 10)
      expect(calls).toBe(2)
    })
  })

  describe('Vary', () => {
    it("keys on the response's Vary and serves each client its variant", async () => {
      let calls = 0
      const { url } = await serve({
        handler: async (req, reply) => {
          calls++
          await sleep(20)
          reply.set('vary', 'Accept-Language')
          reply.send(req.headers['accept-language'] === 'fr' ? 'bonjour' : 'hello')
        },
      })
      const mixed = await Promise.all(times(20, (i) => get(`${url}/greet`, { headers: { 'accept-language': i % 2 ? 'fr' : 'en' } })))
      mixed.forEach((r, i) => expect(r.text).toBe(i % 2 ? 'bonjour' : 'hello'))
      expect(calls).toBe(2)
      expect((await get(`${url}/greet`, { headers: { 'accept-language': 'fr' } })).headers['x-cache']).toBe('HIT')
    })

    it('keys on a Vary set by middleware in front of herdCache (an i18n middleware)', async () => {
      const { url } = await serve({
        handler: (req, reply) => reply.send(req.headers['accept-language'] === 'fr' ? 'bonjour' : 'hello'),
        front: { early: () => ({ vary: 'Accept-Language' }) },
      })
      expect((await get(`${url}/i18n`, { headers: { 'accept-language': 'en' } })).text).toBe('hello')
      expect((await get(`${url}/i18n`, { headers: { 'accept-language': 'fr' } })).text).toBe('bonjour')
      expect((await get(`${url}/i18n`, { headers: { 'accept-language': 'en' } })).headers['x-cache']).toBe('HIT')
    })

    it('keys on configured vary headers and on Host', async () => {
      let calls = 0
      const { url } = await serve({
        handler: (req, reply) => (calls++, reply.send(`${req.headers.host} ${String(req.headers['x-tenant'])}`)),
        options: { vary: ['x-tenant'] },
      })
      const one = await get(`${url}/t`, { headers: { 'x-tenant': 'one', host: 'a.test' } })
      const two = await get(`${url}/t`, { headers: { 'x-tenant': 'two', host: 'a.test' } })
      const otherHost = await get(`${url}/t`, { headers: { 'x-tenant': 'one', host: 'b.test' } })
      expect([one.text, two.text, otherHost.text]).toEqual(['a.test one', 'a.test two', 'b.test one'])
      expect((await get(`${url}/t`, { headers: { 'x-tenant': 'two', host: 'a.test' } })).text).toBe('a.test two')
      expect(calls).toBe(3)
    })

    it('tells an absent request header from an empty one', async () => {
      const { url } = await serve({
        handler: (req, reply) => (reply.set('vary', 'X-Flag'), reply.send(req.headers['x-flag'] === undefined ? 'absent' : `[${req.headers['x-flag']}]`)),
      })
      expect((await get(`${url}/flag`)).text).toBe('absent')
      expect((await get(`${url}/flag`, { headers: { 'x-flag': '' } })).text).toBe('[]')
      expect((await get(`${url}/flag`)).text).toBe('absent')
    })

    it('does not store Vary: *', async () => {
      let calls = 0
      const { url } = await serve({ handler: (_req, reply) => (calls++, reply.set('vary', '*'), reply.send('x')) })
      await get(`${url}/star`)
      await get(`${url}/star`)
      expect(calls).toBe(2)
    })
  })

  if (driver.trustProxy) {
    describe('scheme', () => {
      const redirecting: SuiteHandler = (req, reply) => {
        if (req.scheme === 'http') {
          reply.status(301)
          reply.set('location', `https://${req.headers.host}${req.url}`)
          reply.send('')
        } else reply.send('secure page')
      }

      it('keys the scheme as the framework reports it behind a trusted proxy: an http redirect never loops https visitors', async () => {
        const { url } = await serve({ handler: redirecting, trustProxy: true })
        expect((await get(`${url}/page`)).status).toBe(301)
        expect((await get(`${url}/page`)).headers['x-cache']).toBe('HIT')
        const secure = await get(`${url}/page`, { headers: { 'x-forwarded-proto': 'https' } })
        expect([secure.status, secure.text]).toEqual([200, 'secure page'])
      })

      it('ignores X-Forwarded-Proto when the proxy is not trusted', async () => {
        const { url } = await serve({ handler: redirecting })
        expect((await get(`${url}/page`, { headers: { 'x-forwarded-proto': 'https' } })).status).toBe(301)
      })
    })
  }

  describe('invalidation on unsafe methods (RFC 9111 §4.4)', () => {
    it('a successful POST, PUT, PATCH or DELETE drops the URL, every variant and a same-origin Location, before it answers', async () => {
      let version = 0
      const { url } = await serve({
        handler: (req, reply) => {
          if (req.method === 'GET') {
            reply.set('vary', 'Accept-Language')
            return reply.send(`${String(req.headers['accept-language'])} v${version}`)
          }
          version++
          if (req.url === '/items') {
            reply.status(201)
            reply.set('location', '/items/7')
          }
          reply.send('ok')
        },
      })
      const en = { headers: { 'accept-language': 'en' } }
      const fr = { headers: { 'accept-language': 'fr' } }
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
        const before = version
        expect((await get(`${url}/items/1`, en)).text).toBe(`en v${before}`)
        expect((await get(`${url}/items/1`, fr)).text).toBe(`fr v${before}`)
        expect((await get(`${url}/items/1`, fr)).headers['x-cache']).toBe('HIT')
        expect((await get(`${url}/items/1`, { method })).status).toBe(200)
        expect((await get(`${url}/items/1`, fr)).text).toBe(`fr v${before + 1}`)
        expect((await get(`${url}/items/1`, en)).text).toBe(`en v${before + 1}`)
      }
      expect((await get(`${url}/items/7`, en)).text).toBe(`en v${version}`)
      expect((await get(`${url}/items`, { method: 'POST' })).status).toBe(201)
      expect((await get(`${url}/items/7`, en)).text).toBe(`en v${version}`)
    })

    it('a failed write invalidates nothing', async () => {
      let calls = 0
      const { url } = await serve({
        handler: (req, reply) => {
          if (req.method === 'GET') return reply.send(`v${++calls}`)
          reply.status(409)
          reply.send('conflict')
        },
      })
      await get(`${url}/x`)
      await get(`${url}/x`, { method: 'POST' })
      expect((await get(`${url}/x`)).headers['x-cache']).toBe('HIT')
    })
  })

  describe('freshness (RFC 9111 §4.2)', () => {
    it('lets an Age the handler sends shorten freshness: a response already past max-age is revalidated on every use', async () => {
      let calls = 0
      const { url } = await serve({
        handler: (_req, reply) => (calls++, reply.set('cache-control', 'max-age=60'), reply.set('age', '70'), reply.send('proxied')),
      })
      await get(`${url}/aged`)
      await sleep(5)
      await get(`${url}/aged`)
      expect(calls).toBe(2)
    })

    it('reports Age as the age on arrival plus the time in the cache', async () => {
      const { url } = await serve({ handler: (_req, reply) => (reply.set('cache-control', 'max-age=60'), reply.set('age', '20'), reply.send('proxied')) })
      await get(`${url}/age`)
      const hit = await get(`${url}/age`)
      expect(Number(hit.headers.age)).toBeGreaterThanOrEqual(20)
      expect(Number(hit.headers.age)).toBeLessThan(60)
    })

    it("caps the stale windows with the response's stale-while-revalidate: 0 means never served stale", async () => {
      let calls = 0
      const app = await serve({
        handler: (_req, reply) => (reply.set('cache-control', 'max-age=1, stale-while-revalidate=0'), reply.send(`v${++calls}`)),
        options: { staleWhileRevalidate: '1h' },
      })
      expect((await get(`${app.url}/w`)).text).toBe('v1')
      // Past max-age (a lower bound, not a window).
      await sleep(1_100)
      const next = await get(`${app.url}/w`)
      expect([next.text, next.headers['x-cache']]).toEqual(['v2', 'MISS'])
    })

    it('reads CDN-Cache-Control (RFC 9213) when opted in, instead of Cache-Control', async () => {
      let calls = 0
      const handler: SuiteHandler = (_req, reply) => (
        calls++, reply.set('cache-control', 'no-store'), reply.set('cdn-cache-control', 'max-age=60'), reply.send('for the CDN')
      )
      const plain = await serve({ handler })
      await get(`${plain.url}/cdn`)
      expect((await get(`${plain.url}/cdn`)).headers['x-cache']).toBe('BYPASS')
      const opted = await serve({ handler, options: { cdnCacheControl: true } })
      await get(`${opted.url}/cdn`)
      const hit = await get(`${opted.url}/cdn`)
      expect([hit.headers['x-cache'], hit.headers['cache-control']]).toEqual(['HIT', 'no-store'])
      expect(calls).toBe(3)
    })
  })

  describe('revalidation (RFC 9111 §4.3)', () => {
    /** A handler with a validator that answers 304 itself when the request carries it. */
    function validating(cacheControl: string, counts: { full: number; notModified: number; conditional: string[] }): SuiteHandler {
      return (req, reply) => {
        reply.set('etag', '"v1"')
        reply.set('cache-control', cacheControl)
        reply.set('x-run', String(counts.full + counts.notModified + 1))
        if (req.headers['if-none-match'] !== undefined) counts.conditional.push(String(req.headers['if-none-match']))
        if (req.headers['if-none-match'] === '"v1"') {
          counts.notModified++
          reply.status(304)
          return reply.send('')
        }
        counts.full++
        reply.send('the body')
      }
    }

    it('a stale refresh carries If-None-Match; a 304 freshens the stored response and merges its headers, without a new body', async () => {
      const counts = { full: 0, notModified: 0, conditional: [] as string[] }
      const app = await serve({ handler: validating('max-age=60', counts), options: { staleWhileRevalidate: '1m' } })
      expect((await get(`${app.url}/doc`)).text).toBe('the body')
      await app.cache.expire('/doc')
      expect((await get(`${app.url}/doc`)).headers['x-cache']).toBe('STALE')
      const fresh = await eventually(async () => {
        const r = await get(`${app.url}/doc`)
        return r.headers['x-cache'] === 'HIT' && r.headers['x-run'] === '2' ? r : undefined
      })
      expect(fresh.text).toBe('the body')
      expect(counts).toEqual({ full: 1, notModified: 1, conditional: ['"v1"'] })
    })

    it('no-cache: stored, and revalidated before every reuse', async () => {
      const counts = { full: 0, notModified: 0, conditional: [] as string[] }
      const { url } = await serve({ handler: validating('no-cache', counts) })
      expect((await get(`${url}/nc`)).text).toBe('the body')
      for (let i = 0; i < 3; i++) {
        await sleep(5)
        const again = await get(`${url}/nc`)
        expect([again.status, again.text]).toEqual([200, 'the body'])
      }
      expect(counts.full).toBe(1)
      expect(counts.notModified).toBe(3)
    })

    it('must-revalidate: once stale it is revalidated (coalesced) before reuse, never served stale', async () => {
      const counts = { full: 0, notModified: 0, conditional: [] as string[] }
      const app = await serve({ handler: validating('max-age=60, must-revalidate', counts), options: { staleWhileRevalidate: '1h', staleIfError: '1h' } })
      await get(`${app.url}/mr`)
      await app.cache.expire('/mr')
      const after = await Promise.all(times(5, () => get(`${app.url}/mr`)))
      for (const r of after) expect([r.status, r.text]).toEqual([200, 'the body'])
      expect(after.map((r) => r.headers['x-cache'])).not.toContain('STALE')
      expect(counts).toEqual({ full: 1, notModified: 1, conditional: ['"v1"'] })
    })

    it('a failed revalidation of a must-revalidate response never brings the stale one back', async () => {
      let fail = false
      let calls = 0
      const app = await serve({
        handler: (_req, reply) => {
          calls++
          reply.set('cache-control', 'max-age=60, must-revalidate')
          if (fail) reply.status(503)
          reply.send(`v${calls}`)
        },
        options: { staleWhileRevalidate: '1h', staleIfError: '1h' },
      })
      expect((await get(`${app.url}/mr`)).text).toBe('v1')
      fail = true
      await app.cache.expire('/mr')
      const failed = await get(`${app.url}/mr`)
      expect(failed.status).toBe(503)
      expect(failed.text).not.toBe('v1')
    })
  })

  describe('conditional requests, Range and HEAD on hits', () => {
    it('answers If-None-Match and If-Modified-Since with 304 from the cache', async () => {
      let calls = 0
      const { url } = await serve({
        handler: (_req, reply) => (calls++, reply.set('last-modified', 'Wed, 01 Jan 2025 00:00:00 GMT'), reply.send('document')),
      })
      const first = await get(`${url}/doc`, { headers: { 'if-none-match': '"whatever"' } })
      expect([first.status, first.text]).toEqual([200, 'document'])
      const etag = String((await get(`${url}/doc`)).headers.etag)
      const nm = await get(`${url}/doc`, { headers: { 'if-none-match': etag, 'cache-control': 'no-cache' } })
      expect([nm.status, nm.body.length, nm.headers.etag, nm.headers['x-cache']]).toEqual([304, 0, etag, 'HIT'])
      expect((await get(`${url}/doc`, { headers: { 'if-modified-since': 'Thu, 02 Jan 2025 00:00:00 GMT' } })).status).toBe(304)
      expect((await get(`${url}/doc`, { headers: { 'if-modified-since': 'Tue, 31 Dec 2024 00:00:00 GMT' } })).status).toBe(200)
      expect(calls).toBe(1)
    })

    it('answers a single range with 206, several with the whole 200, an unsatisfiable one with 416', async () => {
      let calls = 0
      const { url } = await serve({ handler: (_req, reply) => (calls++, reply.set('etag', '"strong"'), reply.send('abcdefghij')) })
      await get(`${url}/r`)
      const part = await get(`${url}/r`, { headers: { range: 'bytes=2-4' } })
      expect([part.status, part.text, part.headers['content-range'], part.headers['content-length']]).toEqual([206, 'cde', 'bytes 2-4/10', '3'])
      const suffix = await get(`${url}/r`, { headers: { range: 'bytes=-3' } })
      expect([suffix.status, suffix.text]).toEqual([206, 'hij'])
      const multi = await get(`${url}/r`, { headers: { range: 'bytes=0-1,5-6' } })
      expect([multi.status, multi.text]).toEqual([200, 'abcdefghij'])
      const none = await get(`${url}/r`, { headers: { range: 'bytes=20-30' } })
      expect([none.status, none.headers['content-range']]).toEqual([416, 'bytes */10'])
      const changed = await get(`${url}/r`, { headers: { range: 'bytes=2-4', 'if-range': '"other"' } })
      expect([changed.status, changed.text]).toEqual([200, 'abcdefghij'])
      const same = await get(`${url}/r`, { headers: { range: 'bytes=2-4', 'if-range': '"strong"' } })
      expect(same.status).toBe(206)
      expect(calls).toBe(1)
    })

    it('serves HEAD from the GET entry, and fills it from a HEAD', async () => {
      const methods: string[] = []
      const { url } = await serve({ handler: (req, reply) => (methods.push(req.method), reply.send('body of h')) })
      const head = await get(`${url}/h`, { method: 'HEAD' })
      expect([head.status, head.body.length, head.headers['content-length']]).toEqual([200, 0, '9'])
      const got = await get(`${url}/h`)
      expect([got.text, got.headers['x-cache']]).toEqual(['body of h', 'HIT'])
      expect((await get(`${url}/h`, { method: 'HEAD' })).headers['x-cache']).toBe('HIT')
      expect(methods).toEqual(['GET'])
    })
  })

  describe('stale-while-revalidate and refresh runs', () => {
    it('serves the stale response at once, then the refreshed one, refreshing in a detached run', async () => {
      let version = 0
      const background: boolean[] = []
      let release!: () => void
      const refreshMayEnd = new Promise<void>((resolve) => (release = resolve))
      const app = await serve({
        handler: async (req, reply) => {
          version++
          background.push(req.background)
          if (version > 1) await refreshMayEnd
          reply.send(`v${version}`)
        },
        options: { staleWhileRevalidate: '1m' },
      })
      expect((await get(`${app.url}/swr`)).text).toBe('v1')
      await app.cache.expire('/swr')
      const stale = await Promise.all(times(10, () => get(`${app.url}/swr`)))
      for (const r of stale) expect([r.text, r.headers['x-cache']]).toEqual(['v1', 'STALE'])
      release()
      const fresh = await eventually(async () => {
        const r = await get(`${app.url}/swr`)
        return r.text === 'v2' ? r : undefined
      })
      expect(fresh.headers['x-cache']).toBe('HIT')
      expect(version).toBe(2)
      expect(background).toEqual([false, true])
    })

    // Only where refresh runs go through the middleware in front of herdCache (a framework app; not a bare listener).
    if (driver.refreshThroughFront)
      it('counts a refresh copy answered by middleware in front as a failed refresh, keeping the stale entry', async () => {
        let runs = 0
        const app = await serve({
          handler: (_req, reply) => reply.send(`v${++runs}`),
          front: { refuseBackground: 429 },
          options: { staleWhileRevalidate: '1m' },
        })
        expect((await get(`${app.url}/l`)).text).toBe('v1')
        await app.cache.expire('/l')
        expect((await get(`${app.url}/l`)).text).toBe('v1')
        expect((await get(`${app.url}/l`)).text).toBe('v1')
        expect(runs).toBe(1)
      })
  })

  describe('limits, disconnects and headers', () => {
    it('serves a response over maxBodySize in full but does not store it', async () => {
      let calls = 0
      const big = Buffer.alloc(50_000, 'b')
      const { url } = await serve({
        handler: (req, reply) => (calls++, req.url === '/stream' ? reply.stream([big.subarray(0, 25_000), big.subarray(25_000)]) : reply.send(big)),
        options: { maxBodySize: '10kb' },
      })
      for (const path of ['/buffer', '/stream']) {
        expect((await get(url + path)).body.equals(big)).toBe(true)
        expect((await get(url + path)).body.equals(big)).toBe(true)
      }
      expect(calls).toBe(4)
    })

    it('does not store a response whose client left mid-way; its waiter gets a full response', async () => {
      let calls = 0
      let release!: () => void
      const firstMayEnd = new Promise<void>((resolve) => (release = resolve))
      const { url } = await serve({
        handler: (_req, reply) => {
          // The first run sends a part and ends only when the test says so: its client leaves before.
          if (++calls === 1) return reply.stream(['part1-'], undefined, firstMayEnd)
          reply.send('complete 2')
        },
      })
      const { request } = await import('undici')
      const controller = new AbortController()
      const leaving = await request(`${url}/drip`, { signal: controller.signal })
      const waiter = get(`${url}/drip`)
      leaving.body.once('data', () => controller.abort())
      await leaving.body.text().catch(() => undefined)
      // Nothing of the first run was stored: the waiter (joined or not) gets a run of its own.
      const waited = await waiter
      release()
      expect(waited.text).toBe('complete 2')
      const next = await get(`${url}/drip`)
      expect([next.text, next.headers['x-cache']]).toEqual(['complete 2', 'HIT'])
    })

    it('never replays headers set in front of herdCache (a request id), and keeps the ones set behind it', async () => {
      let id = 0
      const { url } = await serve({
        handler: (_req, reply) => (reply.set('x-route', 'ids'), reply.send('same')),
        front: { early: () => ({ 'x-request-id': `r${++id}` }) },
      })
      const first = await get(`${url}/ids`)
      const second = await get(`${url}/ids`)
      expect([first.headers['x-request-id'], second.headers['x-request-id']]).toEqual(['r1', 'r2'])
      expect([second.headers['x-route'], second.headers['x-cache']]).toEqual(['ids', 'HIT'])
    })

    it('renames or drops the cache header, and skips the cache when key() says so', async () => {
      const renamed = await serve({ handler: (_req, reply) => reply.send('x'), options: { cacheHeader: 'X-Herd' } })
      await get(`${renamed.url}/a`)
      const r = await get(`${renamed.url}/a`)
      expect([r.headers['x-herd'], r.headers['x-cache']]).toEqual(['HIT', undefined])
      const silent = await serve({ handler: (_req, reply) => reply.send('x'), options: { cacheHeader: false } })
      await get(`${silent.url}/a`)
      expect((await get(`${silent.url}/a`)).headers['x-cache']).toBeUndefined()
      let calls = 0
      const skipped = await serve({
        handler: (_req, reply) => reply.send(`run ${++calls}`),
        options: { key: (_s: unknown, u: string) => (u.includes('nocache') ? false : u) },
      })
      await get(`${skipped.url}/s?nocache=1`)
      expect((await get(`${skipped.url}/s?nocache=1`)).text).toBe('run 2')
    })

    it('delete drops every variant of a URL; expire serves stale while refreshing', async () => {
      let version = 0
      const app = await serve({
        handler: (req, reply) => (version++, reply.set('vary', 'accept-language'), reply.send(`${String(req.headers['accept-language'])} v${version}`)),
        options: { staleWhileRevalidate: '1m' },
      })
      const en = { headers: { 'accept-language': 'en' } }
      const fr = { headers: { 'accept-language': 'fr' } }
      expect((await get(`${app.url}/items/1`, en)).text).toBe('en v1')
      expect((await get(`${app.url}/items/1`, fr)).text).toBe('fr v2')
      await app.cache.delete('/items/1')
      expect((await get(`${app.url}/items/1`, fr)).text).toBe('fr v3')
      expect((await get(`${app.url}/items/1`, en)).text).toBe('en v4')
      await app.cache.expire('/items/1')
      const stale = await get(`${app.url}/items/1`, fr)
      expect([stale.text, stale.headers['x-cache']]).toEqual(['fr v3', 'STALE'])
      await eventually(async () => ((await get(`${app.url}/items/1`, fr)).text === 'fr v5' ? true : undefined))
      await eventually(async () => ((await get(`${app.url}/items/1`, en)).text === 'en v6' ? true : undefined))
      expect(app.cache.keyFor('/items/1?b=1&a=2')).toBe('http:http|/items/1?a=2&b=1')
      expect(app.cache.keyFor('https://example.test/items/1')).toBe('http:https|/items/1')
    })
  })

  describe('tags', () => {
    it('tags from the option and from the Cache-Tag header invalidate by tag; the header never reaches the client', async () => {
      const runs = new Map<string, number>()
      const app = await serve({
        handler: (req, reply) => {
          const path = req.url.split('?')[0]!
          runs.set(path, (runs.get(path) ?? 0) + 1)
          const id = /^\/products\/(\d+)/.exec(path)?.[1]
          if (id !== undefined) reply.set('cache-tag', `product:${id}, products`)
          reply.send(`${path} v${runs.get(path)}`)
        },
        options: { staleWhileRevalidate: '1m', tags: ['site'] },
      })
      for (const path of ['/products/1', '/products/2', '/about']) {
        const first = await get(`${app.url}${path}`)
        expect([first.text, first.headers['x-cache'], first.headers['cache-tag']]).toEqual([`${path} v1`, 'MISS', undefined])
      }
      expect((await get(`${app.url}/products/1`)).headers['x-cache']).toBe('HIT')
      await app.cache.expireTags(['product:1'])
      const stale = await get(`${app.url}/products/1`)
      expect([stale.text, stale.headers['x-cache'], stale.headers['cache-tag']]).toEqual(['/products/1 v1', 'STALE', undefined])
      await eventually(async () => ((await get(`${app.url}/products/1`)).text === '/products/1 v2' ? true : undefined))
      expect((await get(`${app.url}/products/2`)).headers['x-cache']).toBe('HIT')
      await app.cache.deleteTags(['site'])
      for (const path of ['/about', '/products/2']) {
        const after = await get(`${app.url}${path}`)
        expect([after.text, after.headers['x-cache']]).toEqual([`${path} v2`, 'MISS'])
      }
    })

    it('a tags function gets the request and the response', async () => {
      let version = 0
      const seen: Array<[string, number]> = []
      const app = await serve({
        handler: (_req, reply) => (version++, reply.set('x-kind', 'article'), reply.send(`v${version}`)),
        options: {
          tags: (_source: unknown, response: { status: number; headers: Record<string, unknown> }) => {
            seen.push([String(response.headers['x-kind']), response.status])
            return [`kind:${String(response.headers['x-kind'])}`]
          },
        },
      })
      expect((await get(`${app.url}/a`)).text).toBe('v1')
      expect(seen).toEqual([['article', 200]])
      await app.cache.deleteTags(['kind:article'])
      expect((await get(`${app.url}/a`)).text).toBe('v2')
    })
  })
}

/** The harness the suite closes after each test: drivers listen with these, so their servers are closed too. */
export { listen, track, barrier }
