import type { IncomingMessage, OutgoingHttpHeaders, RequestListener, ServerResponse } from 'node:http'
import type { Duration } from '@herd/core'
import { withControls, type CacheControls } from './controls.js'
import { HttpCache } from './engine.js'
import type { Exchange, Run } from './exchange.js'
import type { HttpCacheOptions } from './options.js'
import { passThenEnd } from './pass-then.js'
import { captureResponse, type OnHeaders } from './response-capture.js'

/** A plain node:http handler. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>

/** A node:http request listener that caches `handler`'s responses, plus `delete`, `expire`, `keyFor` and `herd`. */
export type HerdCacheListener = RequestListener & CacheControls

/** An error the handler threw (or herdCache raised) before anything was sent: a plain 500, as node:http has no error handling of its own. */
function fail(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy(error instanceof Error ? error : undefined)
    return
  }
  res.statusCode = 500
  res.setHeader('content-type', 'text/plain; charset=utf-8')
  res.end('Internal Server Error')
}

class NodeExchange implements Exchange<IncomingMessage> {
  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    private readonly handler: NodeHandler,
    private readonly listener: RequestListener,
  ) {}

  get source(): IncomingMessage {
    return this.req
  }

  get url(): string {
    return this.req.url ?? '/'
  }

  get scheme(): string {
    return (this.req.socket as { encrypted?: boolean } | null)?.encrypted ? 'https' : 'http'
  }

  pass(): Promise<void> {
    try {
      return Promise.resolve(this.handler(this.req, this.res)).catch((error: unknown) => fail(this.res, error))
    } catch (error) {
      fail(this.res, error)
      return Promise.resolve()
    }
  }

  passThen(beforeEnd: (status: number, headers: OutgoingHttpHeaders) => Promise<void> | undefined): Promise<void> {
    passThenEnd(this.res, beforeEnd)
    return this.pass()
  }

  capture(limit: number, onLayer: OnHeaders): Run {
    const outcome = captureResponse(this.res, limit, onLayer)
    return { handled: this.pass(), outcome }
  }

  send(status: number, body: Buffer | undefined): void {
    this.res.statusCode = status
    this.res.end(body)
  }

  redispatch(req: IncomingMessage, res: ServerResponse): void {
    this.listener(req, res)
  }
}

/**
 * herdCache for plain node:http, no framework: `createServer(herdCacheListener(handler, '30s'))`.
 * The listener is the whole app, so refresh runs go through it again.
 */
export function herdCacheListener(handler: NodeHandler, options: Duration | HttpCacheOptions<IncomingMessage>): HerdCacheListener {
  const cache = new HttpCache<IncomingMessage>(options)
  const listener: RequestListener = (req, res) => {
    let result
    try {
      result = cache.handle(new NodeExchange(req, res, handler, listener))
    } catch (error) {
      fail(res, error)
      return
    }
    if (result !== undefined) result.catch((error: unknown) => fail(res, error))
  }
  return withControls(listener, cache as HttpCache<never>)
}
