import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { Stream, type Readable } from 'node:stream'
import type { Duration } from '@herd/core'
import {
  HttpCache,
  teeStream,
  watchHeaders,
  withControls,
  type CacheControls,
  type Exchange,
  type HttpCacheOptions,
  type OnHeaders,
  type Run,
  type RunOutcome,
  type StreamOutcome,
} from '@herd/http'
import type { Context, Next } from 'koa'
import { warnIfAfterRouters } from './order.js'

export { isBackgroundRefresh, type CapturedResponse, type InvalidateOptions, type KeyResult } from '@herd/http'

export type HerdCacheOptions = HttpCacheOptions<Context>

/** The middleware, plus `delete`, `expire`, `keyFor` and `herd` to invalidate what it stored. */
export interface HerdCacheMiddleware extends CacheControls {
  (ctx: Context, next: Next): Promise<void>
}

/** Statuses Koa sends without a body. */
const EMPTY = new Set([204, 205, 304])

function isReadable(body: unknown): body is Readable {
  return body instanceof Stream && typeof (body as Readable).pipe === 'function'
}

type Final = { status: number; headers: OutgoingHttpHeaders } | undefined

class KoaExchange implements Exchange<Context> {
  constructor(
    readonly source: Context,
    private readonly next: Next,
  ) {}

  get req(): IncomingMessage {
    return this.source.req
  }

  get res(): ServerResponse {
    return this.source.res
  }

  get url(): string {
    return this.source.originalUrl
  }

  get scheme(): string {
    // ctx.protocol honours app.proxy (X-Forwarded-Proto only from a trusted proxy).
    return this.source.protocol === 'https' ? 'https' : 'http'
  }

  pass(): Promise<void> {
    return this.next() as Promise<void>
  }

  async passThen(beforeEnd: (status: number, headers: OutgoingHttpHeaders) => Promise<void> | undefined): Promise<void> {
    await this.next()
    // Koa writes the response after every middleware returned: waiting here holds its end.
    await beforeEnd(this.source.status, this.source.res.getHeaders())
  }

  capture(limit: number, onLayer: OnHeaders): Run {
    let settle!: (outcome: RunOutcome) => void
    const outcome = new Promise<RunOutcome>((resolve) => (settle = resolve))
    // The headers as they leave: Koa writes them in respond(), after middleware in front of herdCache
    // (koa-session, an i18n Vary) had its turn after `await next()`.
    const final = new Promise<Final>((resolve) => {
      watchHeaders(this.source.res, undefined, (status, headers) => resolve({ status, headers }))
      this.source.res.once('close', () => resolve(undefined))
    })
    const handled = this.runAndCapture(limit, onLayer, final, settle)
    return { handled, outcome }
  }

  /**
   * Koa writes the response after every middleware returned, so the capture
   * happens here, after `next()`: the body as downstream left it (a compressor
   * after herdCache has already swapped in its stream), turned into bytes the
   * way Koa's own respond() would, or teed when it is a stream.
   */
  private async runAndCapture(limit: number, onLayer: OnHeaders, final: Promise<Final>, settle: (outcome: RunOutcome) => void): Promise<void> {
    try {
      await this.next()
    } catch (error) {
      settle({ kind: 'error', error })
      throw error
    }
    try {
      this.captureBody(limit, onLayer, final, settle)
    } catch (error) {
      settle({ kind: 'error', error })
      throw error
    }
  }

  private captureBody(limit: number, onLayer: OnHeaders, final: Promise<Final>, settle: (outcome: RunOutcome) => void): void {
    const ctx = this.source
    let body: unknown = ctx.body
    const empty = EMPTY.has(ctx.status)
    if (body == null && !empty && !(ctx.response as { _explicitNullBody?: boolean })._explicitNullBody) {
      // What respond() sends when nobody set a body (a 404 falls through here).
      ctx.status = ctx.status
      ctx.body = ctx.message || String(ctx.status)
      body = ctx.body
    }
    let bytes: Buffer | undefined
    let stream: Promise<StreamOutcome> | undefined
    if (body == null || empty) {
      bytes = Buffer.alloc(0)
    } else if (typeof body === 'string') {
      ctx.body = bytes = Buffer.from(body)
    } else if (Buffer.isBuffer(body)) {
      bytes = body
    } else if (isReadable(body)) {
      const length = ctx.response.get('Content-Length')
      const tee = teeStream(body, limit)
      ctx.body = tee.stream
      if (length) ctx.set('Content-Length', length)
      stream = tee.done
    } else if (isJson(body)) {
      ctx.body = bytes = Buffer.from(JSON.stringify(body))
    }
    // Anything else (Koa 3's Blob, web ReadableStream, Response) is served as it is and not stored.
    if (bytes !== undefined && bytes.length > limit) bytes = undefined
    onLayer(ctx.status, ctx.res.getHeaders())
    // Headers at herdCache's place: a compressor in front adds its own later, to a body it compresses later.
    const headers = ctx.res.getHeaders()
    const status = ctx.status
    const whole: Promise<StreamOutcome> = stream ?? Promise.resolve({ kind: 'done', body: bytes })
    void Promise.all([whole, final]).then(([o, left]) => {
      if (o.kind !== 'done') return settle(o)
      if (left === undefined) return settle({ kind: 'aborted' })
      settle({ kind: 'response', status, headers, finalStatus: left.status, final: left.headers, body: o.body })
    })
  }

  send(status: number, body: Buffer | undefined): void {
    const ctx = this.source
    ctx.status = status
    if (body !== undefined) ctx.body = body
  }

  redispatch(req: IncomingMessage, res: ServerResponse): void {
    // The whole app, from the top: Koa has no way to resume the chain at this middleware.
    void this.source.app.callback()(req, res)
  }
}

/** Bodies Koa's respond() would JSON.stringify: arrays and plain objects. */
function isJson(body: unknown): boolean {
  if (Array.isArray(body)) return true
  if (typeof body !== 'object' || body === null) return false
  const proto = Object.getPrototypeOf(body) as unknown
  return proto === Object.prototype || proto === null
}

/**
 * Response caching for Koa 2 and 3: `app.use(herdCache('30s'))` before the
 * router, or per route. Concurrent requests for a key run downstream once
 * (fleet-wide with a Redis-backed herd); private responses are never shared;
 * a successful POST, PUT, PATCH or DELETE through it invalidates the URL.
 */
export function herdCache(options: Duration | HerdCacheOptions): HerdCacheMiddleware {
  // app.use(herdCache), uncalled, hands a context here: resolveOptions says so, on the first request.
  const cache = new HttpCache<Context>(options)
  let checked = false
  const middleware = function herdCache(ctx: Context, next: Next): Promise<void> {
    if (!checked) {
      checked = true
      warnIfAfterRouters(ctx.app, middleware)
    }
    // koa-compose turns a synchronous throw (a failing key function) into a rejection.
    return cache.handle(new KoaExchange(ctx, next)) ?? Promise.resolve()
  }
  return withControls(middleware, cache as HttpCache<never>)
}
