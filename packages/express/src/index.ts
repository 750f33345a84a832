import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Duration } from '@herd/core'
import type { Request } from 'express'
import {
  HttpCache,
  captureResponse,
  passThenEnd,
  withControls,
  type CacheControls,
  type Exchange,
  type HttpCacheOptions,
  type OnHeaders,
  type Run,
} from '@herd/http'
import { warnIfAfterRoutes } from './order.js'

export { isBackgroundRefresh, type CapturedResponse, type InvalidateOptions, type KeyResult } from '@herd/http'

/** The app a request came through; `parent` is set on apps mounted in another. */
interface App {
  (req: IncomingMessage, res: ServerResponse): void
  parent?: App
}
type Next = (error?: unknown) => void

/** Options of herdCache(); the `key` function gets Express's `req`. */
export type HerdCacheOptions = HttpCacheOptions<Request>

/** The middleware, plus `delete`, `expire`, `keyFor` and `herd` to invalidate what it stored. */
export interface HerdCacheMiddleware extends CacheControls {
  (req: IncomingMessage, res: ServerResponse, next: Next): void
}

class ExpressExchange implements Exchange<Request> {
  constructor(
    readonly source: Request,
    readonly res: ServerResponse,
    private readonly next: Next,
  ) {}

  get req(): IncomingMessage {
    return this.source
  }

  get url(): string {
    return this.source.originalUrl ?? this.source.url ?? '/'
  }

  get scheme(): string {
    // req.protocol honours the app's "trust proxy" setting (X-Forwarded-Proto only from a trusted proxy).
    return this.source.protocol === 'https' ? 'https' : 'http'
  }

  pass(): void {
    this.next()
  }

  passThen(beforeEnd: (status: number, headers: OutgoingHttpHeaders) => Promise<void> | undefined): void {
    passThenEnd(this.res, beforeEnd)
    this.next()
  }

  capture(limit: number, onLayer: OnHeaders): Run {
    const outcome = captureResponse(this.res, limit, onLayer)
    this.next()
    return { handled: undefined, outcome }
  }

  send(status: number, body: Buffer | undefined): void {
    this.res.statusCode = status
    this.res.end(body)
  }

  redispatch(req: IncomingMessage, res: ServerResponse): void {
    // From the top-level app, with the original URL, so mount points route the copy the same way.
    let app = this.source.app as unknown as App
    while (app.parent !== undefined) app = app.parent
    app(req, res)
  }
}

/**
 * Response caching for Express 4 and 5: `app.use(herdCache('30s'))` before
 * the routes, or per route. Concurrent requests for a key run the handler
 * once (fleet-wide with a Redis-backed herd); private responses are never
 * shared; a successful POST, PUT, PATCH or DELETE through it invalidates the
 * URL.
 */
export function herdCache(options: Duration | HerdCacheOptions): HerdCacheMiddleware {
  // app.use(herdCache), uncalled, hands a request here: resolveOptions says so, on the first request.
  const cache = new HttpCache<Request>(options)
  let checked = false
  const middleware = function herdCache(req: IncomingMessage, res: ServerResponse, next: Next): void {
    if (!checked) {
      checked = true
      warnIfAfterRoutes((req as Request).app, middleware)
    }
    let result
    try {
      result = cache.handle(new ExpressExchange(req as Request, res, next))
    } catch (error) {
      next(error)
      return
    }
    if (result !== undefined) result.catch(next)
  }
  return withControls(middleware, cache as HttpCache<never>)
}
