import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { OnHeaders, RunOutcome } from './response-capture.js'

/** HIT, STALE and MISS as herd answered; BYPASS: the handler ran and nothing was shared; ERROR: the failed run this request waited for, replayed. */
export type CacheStatus = 'HIT' | 'STALE' | 'MISS' | 'BYPASS' | 'ERROR'

/** A run of the rest of the app for one request, captured. */
export interface Run {
  /** Settles when the middleware may return (Koa: once downstream returned and the body is set up). */
  handled: Promise<void> | undefined
  outcome: Promise<RunOutcome>
}

/**
 * One request as the framework binding presents it to the engine. The
 * bindings are thin: how to continue the chain, how to capture, how to send.
 */
export interface Exchange<Source = unknown> {
  /** What the user's `key` function gets: Express's `req`, Koa's `ctx`. */
  readonly source: Source
  readonly req: IncomingMessage
  readonly res: ServerResponse
  /** The URL as received, before any mount point or rewrite. */
  readonly url: string
  /** 'http' or 'https' as the framework reports it (honouring its trust-proxy setting). */
  readonly scheme: string
  /** Runs the rest of the app for this request, untouched. */
  pass(): Promise<void> | void
  /**
   * Runs the rest of the app untouched; when the response is about to end,
   * `beforeEnd(status, headers)` may return a promise that the end of the
   * response waits for (an invalidation the client must see done).
   */
  passThen(beforeEnd: (status: number, headers: OutgoingHttpHeaders) => Promise<void> | undefined): Promise<void> | void
  /** Runs the rest of the app, teeing the response to the client while recording it. Calls `onLayer` with the status and headers as they reach herdCache. */
  capture(limit: number, onLayer: OnHeaders): Run
  /** Sends a stored response; its headers are already set on `res`. `body` is undefined for a 304. */
  send(status: number, body: Buffer | undefined): Promise<void> | void
  /** Dispatches a synthetic request through the whole app (for background refreshes). */
  redispatch(req: IncomingMessage, res: ServerResponse): void
}
