import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Duration, Herd } from '@herd/core'
import { HttpCache, captureResponse, type Exchange, type HttpCacheOptions, type InvalidateOptions, type Run } from '@herd/http'

export { isBackgroundRefresh, type CapturedResponse, type InvalidateOptions, type KeyResult } from '@herd/http'

/** The parts of Express's req/res this middleware uses, so it type-checks against Express 4 and 5 alike. */
export interface ExpressRequest extends IncomingMessage {
  originalUrl: string
  app: ExpressApp
}
interface ExpressApp {
  (req: IncomingMessage, res: ServerResponse): void
  parent?: ExpressApp
}
type Next = (error?: unknown) => void

export type HerdCacheOptions = HttpCacheOptions<ExpressRequest>

/** The middleware, plus helpers to invalidate what it stored. */
export interface HerdCacheMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: Next): void
  /** Drops every stored response of a URL path (e.g. '/products/42?lang=en'), or of a key your `key` function returns. */
  delete(keyOrUrl: string, options?: InvalidateOptions): Promise<void>
  /** Marks them stale: the next request gets the old response while the handler refreshes it. */
  expire(keyOrUrl: string, options?: InvalidateOptions): Promise<void>
  /** The herd key for a URL path or key, to use with the herd directly. */
  keyFor(keyOrUrl: string, options?: InvalidateOptions): string
  /** The herd this middleware stores in. */
  readonly herd: Herd
}

class ExpressExchange implements Exchange<ExpressRequest> {
  constructor(
    readonly source: ExpressRequest,
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
    let app = this.source.app
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
  const cache = new HttpCache<ExpressRequest>(options)
  const middleware = function herdCache(req: IncomingMessage, res: ServerResponse, next: Next): void {
    let result
    try {
      result = cache.handle(new ExpressExchange(req as ExpressRequest, res, next))
    } catch (error) {
      next(error)
      return
    }
    if (result !== undefined) result.catch(next)
  } as HerdCacheMiddleware
  middleware.delete = (keyOrUrl, o) => cache.delete(keyOrUrl, o)
  middleware.expire = (keyOrUrl, o) => cache.expire(keyOrUrl, o)
  middleware.keyFor = (keyOrUrl, o) => cache.keyFor(keyOrUrl, o)
  Object.defineProperty(middleware, 'herd', { get: () => cache.herd, enumerable: true })
  return middleware
}
