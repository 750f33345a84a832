/**
 * What a framework binding of herdCache supplies to run the behaviour suite:
 * one way to build an app (middleware in front, herdCache, a handler, error
 * handling) in that framework. The suite's handlers are written once against
 * SuiteRequest / SuiteReply, and every driver maps them onto its framework.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { Herd } from '@herd/core'

export interface SuiteRequest {
  method: string
  /** Path and query as received. */
  url: string
  headers: IncomingHttpHeaders
  /** 'http' or 'https' as the framework reports it (trust proxy honoured). */
  scheme: string
  /** A refresh copy herdCache dispatched (isBackgroundRefresh). */
  background: boolean
}

export interface SuiteReply {
  status(code: number): void
  set(name: string, value: string): void
  /** Sends the whole body and ends the response. */
  send(body: string | Buffer): void
  /**
   * Sends the body as a stream of `chunks`; `length` sets Content-Length (after the body, so it stays
   * as given); with `end`, the stream ends only when that promise settles.
   */
  stream(chunks: Array<string | Buffer>, length?: number, end?: Promise<void>): void
}

/** A handler in the suite. Throwing (or rejecting) reaches the app's error handling. */
export type SuiteHandler = (req: SuiteRequest, reply: SuiteReply) => void | Promise<void>

/** Middleware in front of herdCache, as apps have it. */
export interface FrontMiddleware {
  /** Headers set before herdCache runs (a request id, CORS, an i18n middleware's Vary). */
  early?: (req: SuiteRequest) => Record<string, string> | undefined
  /** Headers set as the response's headers are written, the way express-session and koa-session set their cookie. */
  late?: (req: SuiteRequest) => Record<string, string> | undefined
  /** Answers refresh copies itself with this status (a rate limiter that turns them away). */
  refuseBackground?: number
  /** Holds each request until the promise settles, before herdCache sees it: a barrier that lets many requests in within one tick. */
  hold?: () => Promise<void>
}

export interface AppSpec {
  handler: SuiteHandler
  /** herdCache options; without `herd`, the middleware's own herd. */
  options: { ttl: string | number; herd?: Herd } & Record<string, unknown>
  front?: FrontMiddleware
  /** The framework's trust-proxy setting (Express `trust proxy`, Koa `app.proxy`). */
  trustProxy?: boolean
  /** Error messages the app's error handling saw; it answers 500 `handled: <message>`. */
  errors?: string[]
}

/** What herdCache carries besides being a middleware. */
export interface ServedCache {
  delete(keyOrUrl: string, options?: { user?: string }): Promise<void>
  expire(keyOrUrl: string, options?: { user?: string }): Promise<void>
  expireTags(tags: readonly string[]): Promise<void>
  deleteTags(tags: readonly string[]): Promise<void>
  keyFor(keyOrUrl: string, options?: { user?: string }): string
  readonly herd: Herd
}

export interface ServedApp {
  url: string
  cache: ServedCache
}

export interface BindingDriver {
  /** 'Express 5', 'Koa 2', 'node:http'… */
  name: string
  /** Whether the framework has a trust-proxy setting that decides the scheme from X-Forwarded-Proto. */
  trustProxy: boolean
  /** Whether refresh copies go through the middleware in front of herdCache (a framework app does; a bare listener does not). */
  refreshThroughFront: boolean
  /** Builds the app, listens on 127.0.0.1 with the harness's listen() (closed by closeAll()). */
  serve(spec: AppSpec): Promise<ServedApp>
}
