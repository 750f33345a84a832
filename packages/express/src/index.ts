import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Duration } from '@herd/core'
import type { Request } from 'express'
import { HttpCache, captureResponse, withControls, type CacheControls, type Exchange, type HttpCacheOptions, type Run } from '@herd/http'

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

  pass(): void {
    this.next()
  }

  capture(limit: number, onHeaders: (status: number, headers: OutgoingHttpHeaders) => void): Run {
    const outcome = captureResponse(this.res, limit, onHeaders)
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
 * Response caching for Express 4 and 5: `app.use(herdCache('30s'))` or per
 * route. Concurrent requests for a key run the handler once (fleet-wide with
 * a Redis-backed herd); private responses are never shared.
 */
export function herdCache(options: Duration | HerdCacheOptions): HerdCacheMiddleware {
  const cache = new HttpCache<Request>(options)
  const middleware = function herdCache(req: IncomingMessage, res: ServerResponse, next: Next): void {
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
