import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { createHerd, type Herd } from '@herd/core'
import { captureResponse, HttpCache, isBackgroundRefresh, type Exchange, type HttpCacheOptions } from '../src/index.js'

/*
 * The engine under a third, minimal binding: plain node:http, no framework.
 * It shows what @herd/express and @herd/koa each supply, and tests the engine
 * and captureResponse on real sockets without either framework.
 */
type Handler = (req: IncomingMessage, res: ServerResponse) => void

class NodeExchange implements Exchange<IncomingMessage> {
  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    private readonly handler: Handler,
    private readonly listener: RequestListener,
  ) {}
  get source(): IncomingMessage {
    return this.req
  }
  get url(): string {
    return this.req.url ?? '/'
  }
  pass(): void {
    this.handler(this.req, this.res)
  }
  capture(limit: number, onHeaders: Parameters<Exchange['capture']>[1]) {
    const outcome = captureResponse(this.res, limit, onHeaders)
    this.handler(this.req, this.res)
    return { handled: undefined, outcome }
  }
  send(status: number, body: Buffer | undefined): void {
    this.res.statusCode = status
    this.res.end(body)
  }
  redispatch(req: IncomingMessage, res: ServerResponse): void {
    this.listener(req, res)
  }
}

const servers: Server[] = []
const herds: Herd[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((resolve) => s.close(resolve))
  }
  await Promise.all(herds.splice(0).map((h) => h.close()))
})

async function serve(handler: Handler, options: Partial<HttpCacheOptions<IncomingMessage>> = {}): Promise<string> {
  const herd = createHerd()
  herds.push(herd)
  const cache = new HttpCache<IncomingMessage>({ ttl: '1m', herd, ...options })
  const listener: RequestListener = (req, res) => {
    void cache.handle(new NodeExchange(req, res, handler, listener))
  }
  const server = createServer(listener)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('the engine on plain node:http', () => {
  it('coalesces, stores, and answers 304s', async () => {
    let calls = 0
    const url = await serve(async (_req, res) => {
      calls++
      await sleep(50)
      res.setHeader('content-type', 'text/plain')
      res.write('hello ')
      res.end('world')
    })
    const responses = await Promise.all(Array.from({ length: 10 }, () => fetch(`${url}/x`)))
    const bodies = await Promise.all(responses.map((r) => r.text()))
    expect(bodies).toEqual(Array(10).fill('hello world'))
    expect(calls).toBe(1)
    const etag = responses[1]!.headers.get('etag')!
    const nm = await fetch(`${url}/x`, { headers: { 'if-none-match': etag } })
    expect(nm.status).toBe(304)
    expect(await nm.text()).toBe('')
  })

  it('refreshes in the background through a detached copy of the request', async () => {
    const seen: Array<{ background: boolean; remote: string | undefined; lang: string | undefined }> = []
    const url = await serve(
      (req, res) => {
        seen.push({ background: isBackgroundRefresh(req), remote: req.socket.remoteAddress, lang: req.headers['accept-language'] })
        res.end(`v${seen.length}`)
      },
      { ttl: '300ms', staleWhileRevalidate: '1m' },
    )
    expect(await (await fetch(`${url}/r`, { headers: { 'accept-language': 'fr' } })).text()).toBe('v1')
    await sleep(400)
    const stale = await fetch(`${url}/r`, { headers: { 'accept-language': 'fr' } })
    expect(await stale.text()).toBe('v1')
    expect(stale.headers.get('x-cache')).toBe('STALE')
    for (let i = 0; i < 100 && seen.length < 2; i++) await sleep(20)
    expect(seen[1]).toEqual({ background: true, remote: '127.0.0.1', lang: 'fr' })
    expect(await (await fetch(`${url}/r`, { headers: { 'accept-language': 'fr' } })).text()).toBe('v2')
  })

  it('counts a refresh copy answered before it reaches herdCache as a failed refresh, keeping the stale entry', async () => {
    let runs = 0
    const herd = createHerd()
    herds.push(herd)
    const cache = new HttpCache<IncomingMessage>({ ttl: '300ms', staleWhileRevalidate: '1m', herd })
    const handler: Handler = (_req, res) => {
      runs++
      res.end(`v${runs}`)
    }
    const listener: RequestListener = (req, res) => {
      // A rate limiter in front of the cache that turns away refresh copies.
      if (isBackgroundRefresh(req)) {
        res.statusCode = 429
        res.end()
        return
      }
      void cache.handle(new NodeExchange(req, res, handler, listener))
    }
    const server = createServer(listener)
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/l`
    expect(await (await fetch(url)).text()).toBe('v1')
    await sleep(400)
    expect(await (await fetch(url)).text()).toBe('v1')
    await sleep(100)
    expect(await (await fetch(url)).text()).toBe('v1')
    expect(runs).toBe(1)
  })
})
