import type { IncomingMessage, ServerResponse } from 'node:http'
import type express5 from 'express'
import { listen, streamOf, type AppSpec, type BindingDriver, type SuiteReply, type SuiteRequest } from '@herd/testing/http-suite'
import { herdCache, isBackgroundRefresh, type HerdCacheOptions } from '../src/index.js'

type Express = typeof express5
type Req = IncomingMessage & { originalUrl: string; protocol: string }

function view(req: Req): SuiteRequest {
  return { method: req.method ?? 'GET', url: req.originalUrl, headers: req.headers, scheme: req.protocol, background: isBackgroundRefresh(req) }
}

function reply(res: ServerResponse & { send(body: unknown): void }): SuiteReply {
  return {
    status: (code) => void (res.statusCode = code),
    set: (name, value) => void res.setHeader(name, value),
    send: (body) => res.send(body),
    stream: (chunks, length, end) => {
      if (length !== undefined) res.setHeader('content-length', String(length))
      streamOf(chunks, end).pipe(res)
    },
  }
}

/** The behaviour suite's apps on Express: front middleware, app.use(herdCache), the handler for every method, an error handler. */
export function expressDriver(name: string, express: Express): BindingDriver {
  return {
    name,
    trustProxy: true,
    refreshThroughFront: true,
    async serve(spec: AppSpec) {
      const app = express()
      app.set('trust proxy', spec.trustProxy === true)
      const front = spec.front
      if (front !== undefined) {
        app.use((req, res, next) => {
          if (front.refuseBackground !== undefined && isBackgroundRefresh(req)) {
            res.status(front.refuseBackground).end()
            return
          }
          const v = view(req as Req)
          for (const [k, value] of Object.entries(front.early?.(v) ?? {})) res.setHeader(k, value)
          if (front.late !== undefined) {
            // As on-headers (express-session, compression) does: hooked before herdCache, so it runs after herdCache's hook.
            const raw = res as unknown as ServerResponse
            const writeHead = raw.writeHead as (...args: unknown[]) => ServerResponse
            raw.writeHead = function (this: ServerResponse, ...args: unknown[]) {
              for (const [k, value] of Object.entries(front.late!(v) ?? {})) this.setHeader(k, value)
              return writeHead.apply(this, args)
            } as ServerResponse['writeHead']
          }
          if (front.hold === undefined) next()
          else void front.hold().then(() => next())
        })
      }
      const cache = herdCache(spec.options as unknown as HerdCacheOptions)
      app.use(cache)
      app.use((req, res, next) => {
        // Express 4 does not catch a rejected handler: route the rejection to next() in both.
        Promise.resolve()
          .then(() => spec.handler(view(req as Req), reply(res as ServerResponse & { send(body: unknown): void })))
          .catch(next)
      })
      app.use((error: Error, _req: unknown, res: ServerResponse & { headersSent: boolean }, next: (e?: unknown) => void) => {
        spec.errors?.push(error.message)
        if (res.headersSent) return next(error)
        res.statusCode = 500
        res.end(`handled: ${error.message}`)
      })
      return { url: await listen(app as unknown as Parameters<typeof listen>[0]), cache }
    },
  }
}
