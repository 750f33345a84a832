/**
 * Suite 6's server process: one app per process, on 127.0.0.1, a free port.
 * Every variant answers GET /products/42 with the same JSON bytes; the
 * cached variants' handler waits 20 ms (a database query) and counts its
 * calls, the bare variants answer at once (the ceiling a cache aims for).
 * IPC: → { port } when listening; count → { handlerCalls }; exit.
 */
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createServer, type Server } from 'node:http'
import { herdCache as expressHerdCache } from '@herd/express'
import { herdCache as koaHerdCache } from '@herd/koa'
import apicache from 'apicache'
import express from 'express'
import Koa from 'koa'
import koaCash from 'koa-cash'
import { LRUCache } from 'lru-cache'

import { BODY, PATH, type Variant } from './http-shared.js'

let handlerCalls = 0
const query = () => new Promise((resolve) => setTimeout(resolve, 20))

function expressApp(variant: Variant, ttlMs: number) {
  const app = express()
  app.disable('x-powered-by')
  const handler = async (_req: express.Request, res: express.Response) => {
    handlerCalls++
    if (variant !== 'express-bare') await query()
    res.type('application/json').send(BODY)
  }
  if (variant === 'express-herd') app.get(PATH, expressHerdCache({ ttl: ttlMs }), handler)
  else if (variant === 'express-apicache') app.get(PATH, apicache.newInstance({ defaultDuration: `${ttlMs} milliseconds` }).middleware(), handler)
  else app.get(PATH, handler)
  return app
}

function koaApp(variant: Variant, ttlMs: number) {
  const app = new Koa()
  if (variant === 'koa-herd') app.use(koaHerdCache({ ttl: ttlMs }))
  if (variant === 'koa-cash') {
    // koa-cash's README: a get/set store of your choice (lru-cache here), maxAge handled by the store.
    const lru = new LRUCache<string, object>({ max: 10_000 })
    app.use(
      koaCash({
        maxAge: ttlMs,
        get: async (key: string) => lru.get(key),
        set: async (key: string, value: object, maxAge: number) => {
          lru.set(key, value, { ttl: maxAge > 0 ? maxAge : ttlMs })
        },
      }),
    )
  }
  app.use(async (ctx) => {
    if (ctx.path !== PATH) return
    if (variant === 'koa-cash' && (await (ctx as unknown as { cashed(maxAge?: number): Promise<boolean> }).cashed(ttlMs))) return
    handlerCalls++
    if (variant !== 'koa-bare') await query()
    ctx.type = 'application/json'
    ctx.body = BODY
  })
  return app
}

export function listen(variant: Variant, ttlMs: number): Promise<Server> {
  const server = createServer(variant.startsWith('express') ? expressApp(variant, ttlMs) : koaApp(variant, ttlMs).callback())
  server.keepAliveTimeout = 60_000
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

// Only as a child process's entry point, never when imported.
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.once('message', (setup: { variant: Variant; ttlMs: number }) => {
    void listen(setup.variant, setup.ttlMs).then((server) => {
      process.send!({ type: 'listening', port: (server.address() as AddressInfo).port })
      process.on('message', (m: { type: string }) => {
        if (m.type === 'count') process.send!({ type: 'count', handlerCalls })
        if (m.type === 'exit') server.close(() => process.exit(0))
      })
    })
  })
  process.on('disconnect', () => process.exit(0))
}
